/**
 * Pacing model calls by the provider's rate limits. OpenAI (and servers that copy it) send with every
 * answer what is left of the organisation's tokens and requests per minute and when each counter
 * resets (`x-ratelimit-remaining-tokens`, `x-ratelimit-reset-tokens: 6m0s`, ...). A worker remembers
 * them per endpoint and key, and a call that would spend more than is left waits for the reset instead
 * of spending a request on a 429. The counters are the provider's, shared by every worker of the
 * organisation, so the pacing holds across the fleet without coordination of its own. Where an
 * endpoint sends no such headers, `MODEL_TOKENS_PER_MINUTE` is a ceiling of the worker's own.
 */
import { createHash } from 'node:crypto';
import { PacedLimit } from '../src/pacing-notice';

/** The worker's own ceiling counts the tokens of the last minute. */
const MINUTE_MS = 60_000;

/** The longest reset this reads (a hostile or broken header must not park calls for days). */
const LONGEST_RESET_MS = 24 * 60 * 60_000;

/** What is left of one of the provider's counters, and when it refills. */
interface Counter {
  remaining: number;
  resetAtMs: number;
}

/** What an endpoint's last answer said of its counters. */
interface EndpointLimits {
  tokens?: Counter;
  requests?: Counter;
}

/** Why a call waits, and how long. */
export interface PacingWait {
  limit: PacedLimit;
  waitMs: number;
}

const UNITS_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

/**
 * Milliseconds of a reset header: OpenAI's Go-style durations (`6m0s`, `1.5s`, `20ms`, `1h2m3s`), or a
 * bare number of seconds; undefined for anything else.
 */
export function parseResetDuration(text: string | null | undefined): number | undefined {
  const value = text?.trim();
  if (!value || value.length > 32) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.min(Number(value) * 1_000, LONGEST_RESET_MS);
  const part = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
  let total = 0;
  let at = 0;
  while (at < value.length) {
    part.lastIndex = at;
    const match = part.exec(value);
    if (!match) return undefined;
    total += Number(match[1]) * UNITS_MS[match[2]];
    at = part.lastIndex;
  }
  return Math.min(total, LONGEST_RESET_MS);
}

/** A counter's remainder from its header: a whole number, or undefined. */
function remainderOf(text: string | null): number | undefined {
  if (text === null || !/^\d{1,15}$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

/** The counter a pair of headers describes, read at `now`, if both are there and well-formed. */
function counterOf(headers: Headers, kind: 'tokens' | 'requests', now: number): Counter | undefined {
  const remaining = remainderOf(headers.get(`x-ratelimit-remaining-${kind}`));
  const resetMs = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
  return remaining === undefined || resetMs === undefined ? undefined : { remaining, resetAtMs: now + resetMs };
}

/** The endpoint and key a worker's calls count against, the key hashed: never kept, never logged. */
export function pacingKey(endpoint: string, apiKey: string): string {
  return `${endpoint} ${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
}

/**
 * A worker's knowledge of the rate limits of the endpoints it calls, and its own tokens of the last
 * minute (for `tokensPerMinute`, `MODEL_TOKENS_PER_MINUTE`).
 */
export class ModelCallPacer {
  private readonly endpoints = new Map<string, EndpointLimits>();
  /** The estimated tokens of this worker's calls in the last minute, oldest first. */
  private readonly recent: { atMs: number; tokens: number }[] = [];

  constructor(
    private readonly tokensPerMinute?: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long a call of `estimate` tokens to `key` must wait, and for which limit; undefined when it may go now. */
  waitFor(key: string, estimate: number): PacingWait | undefined {
    const now = this.now();
    const waits: PacingWait[] = [];
    const { tokens, requests } = this.endpoints.get(key) ?? {};
    if (tokens && now < tokens.resetAtMs && tokens.remaining < estimate) {
      waits.push({ limit: PacedLimit.tokens, waitMs: tokens.resetAtMs - now });
    }
    if (requests && now < requests.resetAtMs && requests.remaining < 1) {
      waits.push({ limit: PacedLimit.requests, waitMs: requests.resetAtMs - now });
    }
    const own = this.ownWaitMs(estimate, now);
    if (own > 0) waits.push({ limit: PacedLimit.workerTokens, waitMs: own });
    return waits.sort((a, b) => b.waitMs - a.waitMs)[0];
  }

  /**
   * A call of `estimate` tokens to `key` goes now: counted against what is left until an answer says
   * again, so this worker's calls in flight do not all spend the same remainder.
   */
  spend(key: string, estimate: number): void {
    const limits = this.endpoints.get(key);
    if (limits?.tokens) limits.tokens.remaining -= estimate;
    if (limits?.requests) limits.requests.remaining -= 1;
    if (this.tokensPerMinute !== undefined) this.recent.push({ atMs: this.now(), tokens: estimate });
  }

  /** What an answer's (or a refusal's) `headers` say of `key`'s counters; counters it does not mention are kept. */
  learn(key: string, headers: Headers | undefined): void {
    if (!headers) return;
    const now = this.now();
    const tokens = counterOf(headers, 'tokens', now);
    const requests = counterOf(headers, 'requests', now);
    if (!tokens && !requests) return;
    const known = this.endpoints.get(key) ?? {};
    this.endpoints.set(key, { tokens: tokens ?? known.tokens, requests: requests ?? known.requests });
  }

  /** How long until this worker's own tokens of the last minute leave room for `estimate` more. */
  private ownWaitMs(estimate: number, now: number): number {
    if (this.tokensPerMinute === undefined) return 0;
    while (this.recent.length && this.recent[0].atMs <= now - MINUTE_MS) this.recent.shift();
    let spent = this.recent.reduce((sum, call) => sum + call.tokens, 0);
    // A call bigger than the whole ceiling goes once the minute is clear, or it would never go.
    for (const call of this.recent) {
      if (spent + estimate <= this.tokensPerMinute) return 0;
      spent -= call.tokens;
      if (spent === 0 || spent + estimate <= this.tokensPerMinute) return call.atMs + MINUTE_MS - now;
    }
    return 0;
  }
}

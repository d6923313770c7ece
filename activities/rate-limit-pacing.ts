/**
 * Pacing model calls by the provider's rate limits. OpenAI (and servers that copy it) send with every
 * answer what is left of the organisation's tokens and requests per minute and when each counter
 * resets (`x-ratelimit-remaining-tokens`, `x-ratelimit-reset-tokens: 6m0s`, ...). A worker remembers
 * them per endpoint and key, and a call that would spend more than is left waits for the reset instead
 * of spending a request on a 429. The counters are the provider's, shared by every worker of the
 * organisation, so the pacing holds across the fleet without coordination of its own.
 *
 * Another worker may be told the same remainder at the same moment and spend it too, and what a worker
 * was told is older by the time it acts on it. So a worker spends side by side, beyond what the
 * provider has counted, at most a quarter of what it was told is left, and below that goes single-file:
 * one call at a time, each made on what its last call was told, so two workers overrun the limit by one
 * call at most. A call is counted from its answer's headers, which come first in a stream: single-file
 * costs a worker the time to its calls' first bytes, not their length. A worker that has heard nothing
 * of an endpoint yet makes one call first, to be told. Where an endpoint sends no such headers,
 * `MODEL_TOKENS_PER_MINUTE` is a ceiling of the worker's own.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PacedLimit } from '../src/pacing-notice';

/** The worker's own ceiling counts the tokens of the last minute. */
const MINUTE_MS = 60_000;

/**
 * A worker's calls side by side spend at most one part in this of what it was told is left
 * (`counterWait`). Two simulated workers at any concurrency, with first bytes up to a second apart,
 * overran a window by one call at most with 4; with 2, by up to 11 (test/unit/pacing-two-workers.test.ts).
 */
const SIDE_BY_SIDE_SHARE = 4;

/** The longest reset this reads (a hostile or broken header must not park calls for days). */
const LONGEST_RESET_MS = 24 * 60 * 60_000;

/** What is left of one of the provider's counters, when it refills, and to how much (if it says). */
interface Counter {
  remaining: number;
  resetAtMs: number;
  limit?: number;
}

/** What an endpoint's answers have said of its counters, last told at `heardAtMs`. */
interface Reading {
  heardAtMs: number;
  tokens?: Counter;
  requests?: Counter;
}

/** This worker's calls to an endpoint not yet heard from: counted by the provider, or about to be. */
interface Unheard {
  calls: number;
  tokens: number;
}

/**
 * Why a call waits, and how long: until the limit resets (`Infinity` when no reset is known), or, when
 * `untilHeard`, sooner if one of the worker's calls in flight is heard from first.
 */
export interface PacingWait {
  limit: PacedLimit;
  waitMs: number;
  untilHeard: boolean;
}

/**
 * A call the pacer let go: `heard` with the headers of its answer or refusal as soon as they come,
 * or with none when it failed without; hearing it again is a no-op.
 */
export interface PacedCall {
  heard(headers: Headers | undefined): void;
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

/**
 * The counter a pair of headers describes, read at `now`, if both are there and well-formed; with the
 * whole limit it refills to, if `x-ratelimit-limit-*` says.
 */
function counterOf(headers: Headers, kind: 'tokens' | 'requests', now: number): Counter | undefined {
  const remaining = remainderOf(headers.get(`x-ratelimit-remaining-${kind}`));
  const resetMs = parseResetDuration(headers.get(`x-ratelimit-reset-${kind}`));
  const limit = remainderOf(headers.get(`x-ratelimit-limit-${kind}`));
  if (remaining === undefined || resetMs === undefined) return undefined;
  return { remaining, resetAtMs: now + resetMs, ...(limit !== undefined && { limit }) };
}

/**
 * Whether a call costing `cost` of `counter` waits, with `unheard` of it out in this worker's calls
 * not yet heard from. A call goes side by side while what this worker has out stays within a quarter
 * of what it was told is left: half for another worker that was told the same, and half again as
 * what is left may have halved by the time the answer that told it came back. Below that a call goes
 * alone (nothing of its own unheard, so on what its worker's last call was told) while it fits: two
 * workers told the same overrun it by one call at most. Past its reset a counter is back at its limit;
 * one that does not say its limit says nothing more.
 */
function counterWait(
  counter: Counter | undefined,
  limit: PacedLimit,
  cost: number,
  unheard: Unheard,
  now: number,
): PacingWait | undefined {
  if (!counter) return undefined;
  const reset = now >= counter.resetAtMs;
  if (reset && counter.limit === undefined) return undefined;
  const left = reset ? counter.limit! : counter.remaining;
  if (SIDE_BY_SIDE_SHARE * (unheard.tokens + cost) <= left) return undefined;
  // A call bigger than the whole limit goes alone once it is reset, or it would never go.
  if (unheard.calls === 0 && (cost <= left || reset)) return undefined;
  return { limit, waitMs: reset ? Infinity : counter.resetAtMs - now, untilHeard: unheard.calls > 0 };
}

/**
 * `known` (heard at `heardAtMs`) told more by `told`, the answer to a call made at `madeAtMs`. A call
 * made after `known` was heard is answered later, whatever it says (a counter refills); one made
 * before may be answered out of order, and within a window what is left only falls, so of two answers
 * that crossed the lower is the later. Past its reset, `known` says nothing more.
 */
function merged(
  known: Counter | undefined,
  told: Counter | undefined,
  { madeAtMs, heardAtMs, now }: { madeAtMs: number; heardAtMs: number; now: number },
): Counter | undefined {
  if (!told) return known;
  if (!known || now >= known.resetAtMs || madeAtMs > heardAtMs || told.remaining < known.remaining) {
    return { ...told, ...((told.limit ?? known?.limit) !== undefined && { limit: told.limit ?? known?.limit }) };
  }
  return known;
}

/** The endpoint and key a worker's calls count against, the key hashed: never kept, never logged. */
export function pacingKey(endpoint: string, apiKey: string): string {
  return `${endpoint} ${createHash('sha256').update(apiKey).digest('hex').slice(0, 16)}`;
}

/**
 * A worker's knowledge of the rate limits of the endpoints it calls, its calls in flight, and its own
 * tokens of the last minute (for `tokensPerMinute`, `MODEL_TOKENS_PER_MINUTE`).
 */
export class ModelCallPacer {
  private readonly readings = new Map<string, Reading>();
  private readonly unheard = new Map<string, Unheard>();
  /** Calls waiting for one in flight to be heard from: woken by the next `heard`. */
  private readonly listening = new Set<() => void>();
  /** The estimated tokens of this worker's calls in the last minute, oldest first. */
  private readonly recent: { atMs: number; tokens: number }[] = [];

  constructor(
    private readonly tokensPerMinute?: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How long a call of `estimate` tokens to `key` must wait, and for which limit; undefined when it may go now. */
  waitFor(key: string, estimate: number): PacingWait | undefined {
    const now = this.now();
    const reading = this.readings.get(key);
    const unheard = this.unheard.get(key) ?? { calls: 0, tokens: 0 };
    const waits: PacingWait[] = [];
    // Nothing heard of the endpoint yet: one call first, to be told what is left.
    if (!reading && unheard.calls > 0) waits.push({ limit: PacedLimit.tokens, waitMs: Infinity, untilHeard: true });
    const requests = { calls: unheard.calls, tokens: unheard.calls };
    for (const wait of [
      counterWait(reading?.tokens, PacedLimit.tokens, estimate, unheard, now),
      counterWait(reading?.requests, PacedLimit.requests, 1, requests, now),
    ]) {
      if (wait) waits.push(wait);
    }
    const own = this.ownWaitMs(estimate, now);
    if (own > 0) waits.push({ limit: PacedLimit.workerTokens, waitMs: own, untilHeard: false });
    // The longest wait must pass whatever is heard meanwhile; a shorter one is checked again after it.
    return waits.sort((a, b) => b.waitMs - a.waitMs)[0];
  }

  /**
   * A call of `estimate` tokens to `key` goes now: counted as this worker's, on top of what it was
   * told is left, until it is heard from (the headers of its answer then count it).
   */
  start(key: string, estimate: number): PacedCall {
    const unheard = this.unheard.get(key) ?? { calls: 0, tokens: 0 };
    this.unheard.set(key, { calls: unheard.calls + 1, tokens: unheard.tokens + estimate });
    const madeAtMs = this.now();
    if (this.tokensPerMinute !== undefined) this.recent.push({ atMs: madeAtMs, tokens: estimate });
    let heard = false;
    return {
      heard: (headers) => {
        if (heard) return;
        heard = true;
        this.learn(key, madeAtMs, headers);
        const still = this.unheard.get(key)!;
        this.unheard.set(key, { calls: still.calls - 1, tokens: still.tokens - estimate });
        const waking = [...this.listening];
        this.listening.clear();
        for (const wake of waking) wake();
      },
    };
  }

  /**
   * Waits `waitMs` or, `untilHeard`, until one of this worker's calls is heard from, if sooner;
   * rejects with the sleep's abort error when `signal` aborts.
   */
  async pause(waitMs: number, untilHeard: boolean, signal: AbortSignal): Promise<void> {
    const heard = new AbortController();
    const wake = () => heard.abort();
    if (untilHeard) this.listening.add(wake);
    try {
      await sleep(waitMs, undefined, { signal: AbortSignal.any([signal, heard.signal]) });
    } catch (error) {
      if (signal.aborted || !heard.signal.aborted) throw error;
    } finally {
      this.listening.delete(wake);
    }
  }

  /**
   * What the `headers` of the answer (or refusal) to a call made at `madeAtMs` say of `key`'s
   * counters. An answer without any still says the endpoint was heard from: one that never sends
   * them is not waited on again.
   */
  private learn(key: string, madeAtMs: number, headers: Headers | undefined): void {
    if (!headers) return;
    const now = this.now();
    const known = this.readings.get(key);
    const when = { madeAtMs, heardAtMs: known?.heardAtMs ?? -Infinity, now };
    const tokens = merged(known?.tokens, counterOf(headers, 'tokens', now), when);
    const requests = merged(known?.requests, counterOf(headers, 'requests', now), when);
    this.readings.set(key, { heardAtMs: now, ...(tokens && { tokens }), ...(requests && { requests }) });
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

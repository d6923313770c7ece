/**
 * The scripted server's rate limit, as OpenAI's works: a budget of tokens per window ("minute", short in
 * tests) counted per request, every answer saying what is left and when the window resets
 * (`x-ratelimit-remaining-tokens`, `x-ratelimit-reset-tokens: 1.5s`, and the same for requests), and a
 * request past the budget refused with a 429 that says when to come back. The server's log keeps each
 * refusal, so tests count the 429s the workers spent.
 */

/** A budget of tokens (and, if given, requests) per window of `windowMs`. */
export interface ScriptedRateLimit {
  tokensPerWindow: number;
  requestsPerWindow?: number;
  /** The window's length: OpenAI's minute, shortened for tests. */
  windowMs: number;
}

/** A duration as OpenAI's headers write it: `1.5s`, `20ms`, `6m0s`. */
export function resetDuration(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.ceil(ms))}ms`;
  if (ms < 60_000) return `${Number((ms / 1_000).toFixed(3))}s`;
  return `${Math.floor(ms / 60_000)}m${Number(((ms % 60_000) / 1_000).toFixed(3))}s`;
}

/** What the limit said to one request: go (with the headers of what is left), or a 429's headers. */
export type RateDecision =
  { allowed: true; headers: Record<string, string> } | { allowed: false; headers: Record<string, string> };

/** The counters of one scripted server: a fixed window from its first request. */
export class RateLimitWindow {
  private startedAtMs = -Infinity;
  private tokens = 0;
  private requests = 0;

  constructor(private readonly limit: ScriptedRateLimit) {}

  /** Counts a request of `tokens` at `now`, or refuses it when it would pass the window's budget. */
  take(tokens: number, now = Date.now()): RateDecision {
    const { tokensPerWindow, requestsPerWindow = Infinity, windowMs } = this.limit;
    if (now >= this.startedAtMs + windowMs) {
      this.startedAtMs = now;
      this.tokens = 0;
      this.requests = 0;
    }
    const allowed = this.tokens + tokens <= tokensPerWindow && this.requests + 1 <= requestsPerWindow;
    if (allowed) {
      this.tokens += tokens;
      this.requests += 1;
    }
    const resetMs = this.startedAtMs + windowMs - now;
    const headers: Record<string, string> = {
      'x-ratelimit-limit-tokens': String(tokensPerWindow),
      'x-ratelimit-remaining-tokens': String(tokensPerWindow - this.tokens),
      'x-ratelimit-reset-tokens': resetDuration(resetMs),
      ...(Number.isFinite(requestsPerWindow) && {
        'x-ratelimit-limit-requests': String(requestsPerWindow),
        'x-ratelimit-remaining-requests': String(requestsPerWindow - this.requests),
        'x-ratelimit-reset-requests': resetDuration(resetMs),
      }),
    };
    return allowed
      ? { allowed, headers }
      : { allowed, headers: { ...headers, 'retry-after-ms': String(Math.ceil(resetMs)) } };
  }
}

/**
 * A worker's pacing by the provider's rate-limit headers (activities/rate-limit-pacing.ts): what the
 * headers say, when a call waits and for how long, and the worker's own `MODEL_TOKENS_PER_MINUTE`.
 */
import { liveLine, formatCallInFlight } from '../../cli/live-line';
import type { CallInFlight } from '../../client/calls-in-flight';
import { ModelCallPacer, pacingKey, parseResetDuration } from '../../activities/rate-limit-pacing';
import { resetDuration, RateLimitWindow } from '../../runtime/scripted-rate-limits';

const KEY = pacingKey('https://api.openai.com/v1', 'sk-secret');

/** Headers of an answer: what is left of the tokens, and when they reset. */
const limits = (tokens: string, reset: string, more: Record<string, string> = {}) =>
  new Headers({ 'x-ratelimit-remaining-tokens': tokens, 'x-ratelimit-reset-tokens': reset, ...more });

describe('parseResetDuration', () => {
  it.each([
    ['6m0s', 360_000],
    ['1.5s', 1_500],
    ['20ms', 20],
    ['1h2m3s', 3_723_000],
    ['0s', 0],
    ['2', 2_000],
    [' 2s ', 2_000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseResetDuration(text)).toBe(ms);
  });

  it.each([null, '', 'soon', '5 s', '-1s', '1x', '1s2', 's'])('reads %j as nothing', (text) => {
    expect(parseResetDuration(text)).toBeUndefined();
  });

  it('bounds a hostile reset at a day', () => {
    expect(parseResetDuration('99999999h')).toBe(24 * 3_600_000);
  });

  it('reads back what the scripted server writes', () => {
    for (const ms of [0, 20, 999, 1_500, 59_999, 61_500, 360_000]) {
      expect(parseResetDuration(resetDuration(ms))).toBeCloseTo(ms, -1);
    }
  });
});

describe('pacingKey', () => {
  it('names the endpoint and a hash of the key, never the key', () => {
    expect(KEY).toMatch(/^https:\/\/api\.openai\.com\/v1 [0-9a-f]{16}$/);
    expect(KEY).not.toContain('secret');
    expect(pacingKey('https://api.openai.com/v1', 'sk-other')).not.toBe(KEY);
  });
});

describe('ModelCallPacer', () => {
  let now: number;
  const clock = () => now;
  beforeEach(() => {
    now = 1_000_000;
  });
  /** A pacer that has been told `headers` by the answer to one call. */
  const toldBy = (headers: Headers, tokensPerMinute?: number) => {
    const pacer = new ModelCallPacer(tokensPerMinute, clock);
    pacer.start(KEY, 0).heard(headers);
    return pacer;
  };

  it('makes one call to an endpoint it has heard nothing of, and the next when that one is heard', () => {
    const pacer = new ModelCallPacer(undefined, clock);
    expect(pacer.waitFor(KEY, 10_000)).toBeUndefined();
    const first = pacer.start(KEY, 10_000);
    expect(pacer.waitFor(KEY, 10_000)).toEqual({ limit: 'tokens', waitMs: Infinity, untilHeard: true });
    // Failed without an answer: still nothing heard.
    first.heard(undefined);
    pacer.start(KEY, 10_000).heard(new Headers({ 'content-type': 'application/json' }));
    // An endpoint that answers without rate-limit headers is not waited on again.
    pacer.start(KEY, 10_000);
    expect(pacer.waitFor(KEY, 10_000)).toBeUndefined();
  });

  it('makes a call that would spend more than is left wait until the reset, and no longer', () => {
    const pacer = toldBy(limits('500', '2s'));
    expect(pacer.waitFor(KEY, 500)).toBeUndefined();
    expect(pacer.waitFor(KEY, 501)).toEqual({ limit: 'tokens', waitMs: 2_000, untilHeard: false });
    now += 1_500;
    expect(pacer.waitFor(KEY, 501)).toEqual({ limit: 'tokens', waitMs: 500, untilHeard: false });
    now += 500;
    expect(pacer.waitFor(KEY, 501)).toBeUndefined();
    // Another endpoint or key has counters of its own.
    expect(pacer.waitFor(pacingKey('https://api.openai.com/v1', 'sk-other'), 100_000)).toBeUndefined();
  });

  it('lets calls go side by side while they spend a quarter of what is left, then one at a time', () => {
    const pacer = toldBy(limits('1000', '10s'));
    pacer.start(KEY, 100);
    expect(pacer.waitFor(KEY, 150)).toBeUndefined();
    const second = pacer.start(KEY, 150);
    // 100 + 150 out: a third of 100 would pass the quarter; it waits for a call to be heard (or the reset).
    expect(pacer.waitFor(KEY, 100)).toEqual({ limit: 'tokens', waitMs: 10_000, untilHeard: true });
    second.heard(limits('750', '9s'));
    // 100 out of 750 told: another 87 stays within the quarter, 88 does not.
    expect(pacer.waitFor(KEY, 87)).toBeUndefined();
    expect(pacer.waitFor(KEY, 88)?.untilHeard).toBe(true);
  });

  it('near the limit makes each call alone, on what the last one was told', () => {
    const pacer = toldBy(limits('300', '10s'));
    expect(pacer.waitFor(KEY, 300)).toBeUndefined();
    const alone = pacer.start(KEY, 100);
    expect(pacer.waitFor(KEY, 1)).toEqual({ limit: 'tokens', waitMs: 10_000, untilHeard: true });
    alone.heard(limits('200', '9s'));
    expect(pacer.waitFor(KEY, 200)).toBeUndefined();
    expect(pacer.waitFor(KEY, 201)).toEqual({ limit: 'tokens', waitMs: 9_000, untilHeard: false });
  });

  it('keeps the lower of two answers that crossed, and a later call’s answer even when higher', () => {
    const pacer = toldBy(limits('1000', '10s'));
    const [first, second] = [pacer.start(KEY, 100), pacer.start(KEY, 100)];
    // The second call was counted first: its answer is lower, and the first's, come after it, older.
    second.heard(limits('800', '10s'));
    first.heard(limits('900', '10s'));
    expect(pacer.waitFor(KEY, 800)).toBeUndefined();
    expect(pacer.waitFor(KEY, 801)?.limit).toBe('tokens');
    // A call made after that answer is answered later: the counter refilled.
    now += 1;
    pacer.start(KEY, 0).heard(limits('4000', '10s'));
    expect(pacer.waitFor(KEY, 1_000)).toBeUndefined();
  });

  it('counts a counter past its reset back at its limit, and forgets one that never said its limit', () => {
    const pacer = toldBy(limits('0', '1s', { 'x-ratelimit-limit-tokens': '800' }));
    expect(pacer.waitFor(KEY, 100)?.waitMs).toBe(1_000);
    now += 1_000;
    pacer.start(KEY, 100);
    expect(pacer.waitFor(KEY, 100)).toBeUndefined();
    // 100 + 101 out of 800 passes the quarter; no reset is known now, so it waits to be told.
    expect(pacer.waitFor(KEY, 101)).toEqual({ limit: 'tokens', waitMs: Infinity, untilHeard: true });
    const unlimited = toldBy(limits('0', '1s'));
    now += 1_000;
    unlimited.start(KEY, 100);
    expect(unlimited.waitFor(KEY, 100_000)).toBeUndefined();
  });

  it('waits for the request limit when no request is left', () => {
    const pacer = toldBy(new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20ms' }));
    expect(pacer.waitFor(KEY, 1)).toEqual({ limit: 'requests', waitMs: 20, untilHeard: false });
  });

  it('ignores headers it cannot read, keeping what it knew', () => {
    const pacer = toldBy(limits('100', '5s'));
    pacer.start(KEY, 0).heard(limits('lots', 'soon'));
    pacer.start(KEY, 0).heard(new Headers());
    expect(pacer.waitFor(KEY, 200)).toEqual({ limit: 'tokens', waitMs: 5_000, untilHeard: false });
  });

  it('holds MODEL_TOKENS_PER_MINUTE over the last minute of its own calls', () => {
    const pacer = new ModelCallPacer(1_000, clock);
    pacer.start(KEY, 400).heard(new Headers());
    now += 10_000;
    pacer.start(KEY, 400).heard(new Headers());
    expect(pacer.waitFor(KEY, 200)).toBeUndefined();
    // 400 + 400 + 300 > 1,000: the first call's tokens must leave the minute first.
    expect(pacer.waitFor(KEY, 300)).toEqual({ limit: 'worker_tokens', waitMs: 50_000, untilHeard: false });
    now += 50_000;
    expect(pacer.waitFor(KEY, 300)).toBeUndefined();
    // A call bigger than the whole ceiling goes once the minute is clear, never sooner, never never.
    expect(pacer.waitFor(KEY, 5_000)).toEqual({ limit: 'worker_tokens', waitMs: 10_000, untilHeard: false });
  });
});

describe('ModelCallPacer.pause', () => {
  const pacer = new ModelCallPacer();

  it('ends when a call is heard from, if told to wait for that', async () => {
    const call = pacer.start(KEY, 0);
    const startedAt = Date.now();
    const pausing = pacer.pause(60_000, true, new AbortController().signal);
    call.heard(undefined);
    await pausing;
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('ends at its time when not told to wait for calls, and rejects when cancelled', async () => {
    const call = pacer.start(KEY, 0);
    const waited = pacer.pause(30, false, new AbortController().signal).then(() => 'waited');
    call.heard(undefined);
    const raced = await Promise.race([waited, new Promise((resolve) => setTimeout(resolve, 10, 'heard'))]);
    expect(raced).toBe('heard');
    await expect(waited).resolves.toBe('waited');
    const cancel = new AbortController();
    const cancelled = pacer.pause(60_000, true, cancel.signal);
    cancel.abort();
    await expect(cancelled).rejects.toThrow(/abort/i);
  });
});

describe("the scripted server's rate limit", () => {
  it('counts a window of tokens, says what is left, and refuses past it with when to come back', () => {
    const window = new RateLimitWindow({ tokensPerWindow: 100, windowMs: 2_000 });
    expect(window.take(60, 0)).toMatchObject({
      allowed: true,
      headers: { 'x-ratelimit-remaining-tokens': '40', 'x-ratelimit-reset-tokens': '2s' },
    });
    expect(window.take(60, 500)).toMatchObject({
      allowed: false,
      headers: { 'x-ratelimit-remaining-tokens': '40', 'retry-after-ms': '1500' },
    });
    expect(window.take(60, 2_000)).toMatchObject({ allowed: true, headers: { 'x-ratelimit-remaining-tokens': '40' } });
  });
});

describe('a paced call, as the live line and status say it', () => {
  const call: CallInFlight = {
    activityId: '1',
    type: 'callModel',
    summary: 'model gpt-4o-mini · step 2',
    attempt: 1,
    maximumAttempts: 5,
    running: true,
    sinceMs: 0,
    pacing: { limit: 'tokens', resumesAtMs: 14_200 },
  };

  it('says what it waits for and when it resumes', () => {
    expect(liveLine({ workflowId: 'w', calls: [call] }, undefined, 10_000)).toBe(
      'step 2 · pacing: provider token limit, resumes in 4.2 s',
    );
    expect(formatCallInFlight(call, 10_000)).toBe(
      'model gpt-4o-mini · step 2: pacing: provider token limit, resumes in 4.2 s',
    );
  });
});

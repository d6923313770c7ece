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

  it('lets a call go while the provider has said nothing, or enough is left', () => {
    const pacer = new ModelCallPacer(undefined, clock);
    expect(pacer.waitFor(KEY, 10_000)).toBeUndefined();
    pacer.learn(KEY, limits('5000', '2s'));
    expect(pacer.waitFor(KEY, 5_000)).toBeUndefined();
  });

  it('makes a call that would spend more than is left wait until the reset, and no longer', () => {
    const pacer = new ModelCallPacer(undefined, clock);
    pacer.learn(KEY, limits('500', '2s'));
    expect(pacer.waitFor(KEY, 501)).toEqual({ limit: 'tokens', waitMs: 2_000 });
    now += 1_500;
    expect(pacer.waitFor(KEY, 501)).toEqual({ limit: 'tokens', waitMs: 500 });
    now += 500;
    expect(pacer.waitFor(KEY, 501)).toBeUndefined();
    // Another endpoint or key has counters of its own.
    expect(pacer.waitFor(pacingKey('https://api.openai.com/v1', 'sk-other'), 501)).toBeUndefined();
  });

  it("counts the worker's own calls in flight against what is left, until an answer says again", () => {
    const pacer = new ModelCallPacer(undefined, clock);
    pacer.learn(KEY, limits('1000', '10s'));
    pacer.spend(KEY, 600);
    expect(pacer.waitFor(KEY, 600)?.limit).toBe('tokens');
    pacer.learn(KEY, limits('900', '9s'));
    expect(pacer.waitFor(KEY, 600)).toBeUndefined();
  });

  it('waits for the request limit when no request is left', () => {
    const pacer = new ModelCallPacer(undefined, clock);
    pacer.learn(KEY, new Headers({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20ms' }));
    expect(pacer.waitFor(KEY, 1)).toEqual({ limit: 'requests', waitMs: 20 });
  });

  it('ignores headers it cannot read, keeping what it knew', () => {
    const pacer = new ModelCallPacer(undefined, clock);
    pacer.learn(KEY, limits('100', '5s'));
    pacer.learn(KEY, limits('lots', 'soon'));
    pacer.learn(KEY, new Headers());
    expect(pacer.waitFor(KEY, 200)).toEqual({ limit: 'tokens', waitMs: 5_000 });
  });

  it('holds MODEL_TOKENS_PER_MINUTE over the last minute of its own calls', () => {
    const pacer = new ModelCallPacer(1_000, clock);
    pacer.spend(KEY, 400);
    now += 10_000;
    pacer.spend(KEY, 400);
    expect(pacer.waitFor(KEY, 200)).toBeUndefined();
    // 400 + 400 + 300 > 1,000: the first call's tokens must leave the minute first.
    expect(pacer.waitFor(KEY, 300)).toEqual({ limit: 'worker_tokens', waitMs: 50_000 });
    now += 50_000;
    expect(pacer.waitFor(KEY, 300)).toBeUndefined();
    // A call bigger than the whole ceiling goes once the minute is clear, never sooner, never never.
    expect(pacer.waitFor(KEY, 5_000)).toEqual({ limit: 'worker_tokens', waitMs: 10_000 });
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

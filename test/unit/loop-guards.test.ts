import type { ModelCallResult } from '../../activities';
import { LimitName, type Budgets, type ToolCall, type Usage } from '../../src/types';
import { addUsage, Budget, type Spent, ZERO_USAGE } from '../../workflows/budget';
import { canonicalJson, RepetitionGuard } from '../../workflows/stuck';

function call(name: string, args: string, id = 'c'): ToolCall {
  return { id, type: 'function', function: { name, arguments: args } };
}

describe('RepetitionGuard', () => {
  it('reports the same call with the same arguments, key order ignored, on its third answer in a row', () => {
    const guard = new RepetitionGuard(3);
    expect(guard.observeCalls([call('lookup', '{"id":1,"full":true}')])).toBeUndefined();
    expect(guard.observeCalls([call('lookup', '{ "full": true, "id": 1 }')])).toBeUndefined();
    expect(guard.observeCalls([call('lookup', '{"id":1,"full":true}')])).toEqual({
      description: 'the tool call lookup {"full":true,"id":1} 3 times in a row',
      kind: 'call',
      tools: ['lookup'],
      times: 3,
    });
  });

  it('starts counting again when an answer does not make the call', () => {
    const guard = new RepetitionGuard(3);
    guard.observeCalls([call('lookup', '{"id":1}')]);
    guard.observeCalls([call('lookup', '{"id":1}')]);
    expect(guard.observeCalls([call('lookup', '{"id":2}')])).toBeUndefined();
    expect(guard.observeCalls([call('lookup', '{"id":1}')])).toBeUndefined();
  });

  it('counts a call made several times in one answer', () => {
    const guard = new RepetitionGuard(3);
    expect(guard.observeCalls([call('ping', '{}'), call('ping', '{}'), call('ping', '')])).toMatchObject({
      description: expect.stringContaining('ping {} 3 times'),
    });
  });

  it('quotes at most 200 bytes of the arguments', () => {
    const guard = new RepetitionGuard(2);
    const huge = JSON.stringify({ text: 'é'.repeat(10_000) });
    guard.observeCalls([call('echo', huge)]);
    const { description } = guard.observeCalls([call('echo', huge)])!;
    expect(Buffer.byteLength(description)).toBeLessThan(300);
  });

  it('reports answers whose results were all read before, maxRepeats answers in a row', () => {
    const guard = new RepetitionGuard(2);
    expect(guard.observeResults([call('search', '{"q":"a"}')], ['same'])).toBeUndefined();
    expect(guard.observeResults([call('search', '{"q":"b"}')], ['same'])).toBeUndefined();
    expect(guard.observeResults([call('search', '{"q":"c"}')], ['same'])).toMatchObject({
      description: expect.stringMatching(/already read, 2 answers in a row \(last: search \{"q":"c"\}\)/),
    });
  });

  it('does not report results while one of them is new', () => {
    const guard = new RepetitionGuard(2);
    guard.observeResults([call('a', '{}')], ['one']);
    guard.observeResults([call('a', '{}')], ['one']);
    expect(guard.observeResults([call('a', '{}'), call('b', '{}')], ['one', 'two'])).toBeUndefined();
  });

  it('writes canonical JSON with sorted keys at every depth', () => {
    expect(canonicalJson({ b: [{ z: 1, a: 2 }], a: null })).toBe('{"a":null,"b":[{"a":2,"z":1}]}');
  });
});

function response(inputTokens: number, outputTokens: number, costUsd = 0): ModelCallResult {
  return {
    model: 'm',
    message: { role: 'assistant', content: null },
    finishReason: 'tool_calls',
    inputTokens,
    outputTokens,
    costUsd,
    costKnown: true,
  };
}

/** A budget over a run whose spending the test drives. */
function run(turnLimits: Budgets, lifetimeLimits: Budgets = {}, price?: { perInput: number; perOutput: number }) {
  const spent: Spent = { steps: 0, usage: ZERO_USAGE, startedAtMs: 0 };
  const budget = new Budget(turnLimits, lifetimeLimits, price, () => spent);
  return {
    budget,
    /** One model call of `requestBytes` that returned `result`, taking `latencyMs`. */
    spend(result: ModelCallResult, requestBytes: number, latencyMs = 100) {
      spent.steps += 1;
      spent.usage = addUsage(spent.usage, result) as Usage;
      budget.record(result, requestBytes, latencyMs);
    },
    spent,
  };
}

describe('Budget.inputTokensFor', () => {
  it('estimates from bytes (3 a token) before any call reported its tokens', () => {
    expect(run({}).budget.inputTokensFor(3_000)).toBe(1_000);
  });

  it('corrects from the last reported count: what was added at 3 bytes a token, what was taken out in proportion', () => {
    const { budget, spend } = run({});
    spend(response(1_000, 20), 4_800);
    expect(budget.inputTokensFor(4_800)).toBe(1_200);
    expect(budget.inputTokensFor(7_800)).toBe(2_000);
    // A summary halved the transcript: half the tokens (but no fewer than 1 a 4 bytes).
    expect(budget.inputTokensFor(2_400)).toBe(600);
  });

  it('never believes fewer tokens than 1 for 4 bytes: an endpoint that reports no usage does not hide a long transcript', () => {
    const { budget, spend } = run({});
    spend(response(0, 20), 40_000);
    expect(budget.inputTokensFor(40_000)).toBe(10_000);
    expect(budget.inputTokensFor(43_000)).toBe(10_750);
  });
});

describe('Budget', () => {
  it('makes the last step of maxSteps the wrap-up', () => {
    const { budget, spend } = run({ maxSteps: 3 });
    expect(budget.decide(0, 900)).toEqual({ next: 'call' });
    spend(response(300, 20), 900);
    expect(budget.decide(0, 1000)).toEqual({ next: 'call' });
    spend(response(330, 20), 1000);
    expect(budget.decide(0, 1100)).toEqual({ next: 'wrapUp', limit: LimitName.maxSteps, lifetime: false });
    spend(response(360, 20), 1100);
    expect(budget.decide(0, 1200)).toEqual({ next: 'stop', limit: LimitName.maxSteps, lifetime: false });
  });

  it('caps ordinary calls so a wrap-up still fits the token budget, then wraps up inside it', () => {
    // Each request grows by 300 bytes (100 tokens estimated, 100 real) and each answer is 50 tokens.
    const { budget, spend, spent } = run({ maxTokens: 2_000 });
    // 200 tokens in (600 bytes), 256 out assumed; a wrap-up after it of 456 in and 256 out.
    expect(budget.decide(0, 600)).toEqual({ next: 'call', maxOutputTokens: 2_000 - 456 - 256 - 200 });
    spend(response(200, 50), 600);
    expect(budget.decide(0, 900)).toEqual({ next: 'call', maxOutputTokens: 1_750 - 350 - 50 - 300 });
    spend(response(300, 50), 900);
    expect(budget.decide(0, 1_200)).toEqual({ next: 'call', maxOutputTokens: 1_400 - 500 - 50 - 400 });
    spend(response(400, 50), 1_200);
    // 950 left: a call of 500 in would leave no room for the wrap-up after it, so this is the wrap-up.
    const wrapUp = budget.decide(0, 1_500);
    expect(wrapUp).toEqual({ next: 'wrapUp', limit: LimitName.maxTokens, lifetime: false, maxOutputTokens: 450 });
    expect(spent.usage.totalTokens + 500 + 450).toBe(2_000);
  });

  it('stops without a wrap-up when not even a short answer fits', () => {
    const { budget, spend } = run({ maxTokens: 500 });
    spend(response(440, 40), 1_320);
    expect(budget.decide(0, 1_350)).toEqual({ next: 'stop', limit: LimitName.maxTokens, lifetime: false });
  });

  it('reads a cost budget through the price per token', () => {
    const price = { perInput: 1 / 1_000_000, perOutput: 4 / 1_000_000 };
    const { budget, spend, spent } = run({ maxCostUsd: 0.001 }, {}, price);
    spend(response(150, 20, 230e-6), 450);
    // 770 µ$ left: 200 in now, then 220 in and 20 out for the wrap-up, leaves 67 tokens of output.
    expect(budget.decide(0, 600)).toEqual({ next: 'call', maxOutputTokens: 67 });
    spend(response(200, 20, 280e-6), 600);
    const wrapUp = budget.decide(0, 750);
    expect(wrapUp).toEqual({ next: 'wrapUp', limit: LimitName.maxCostUsd, lifetime: false, maxOutputTokens: 60 });
    expect(spent.usage.costUsd + 250e-6 + 60 * 4e-6).toBeCloseTo(0.001, 12);
  });

  it('sets no output cap when output costs nothing, and still keeps the inputs inside the budget', () => {
    const { budget, spend } = run({ maxCostUsd: 0.001 }, {}, { perInput: 1 / 1_000_000, perOutput: 0 });
    expect(budget.decide(0, 600)).toEqual({ next: 'call' });
    spend(response(400, 20, 400e-6), 600);
    // 600 µ$ left: 450 tokens in now and about 470 for the wrap-up after would pass it.
    expect(budget.decide(0, 750)).toEqual({ next: 'wrapUp', limit: LimitName.maxCostUsd, lifetime: false });
  });

  it('ends ordinary work before the deadline, keeping time for the wrap-up, and stops at the deadline', () => {
    const { budget, spend } = run({ maxDurationSeconds: 60 });
    spend(response(100, 10), 300, 2_000); // the slowest call took 2 s: 3.5 s are kept
    expect(budget.decide(10_000, 300)).toEqual({ next: 'call', deadlineMs: 56_500 });
    expect(budget.decide(56_500, 300)).toEqual({
      next: 'wrapUp',
      limit: LimitName.maxDurationSeconds,
      lifetime: false,
      deadlineMs: 60_000,
    });
    expect(budget.decide(60_000, 300)).toMatchObject({ next: 'stop', limit: LimitName.maxDurationSeconds });
  });

  it('counts a session turn from its own start, and the lifetime budgets from the run start', () => {
    const { budget, spend } = run({ maxSteps: 2 }, { maxSteps: 3 });
    budget.startTurn(0);
    expect(budget.decide(0, 100)).toEqual({ next: 'call' });
    spend(response(10, 1), 100);
    expect(budget.decide(0, 100)).toMatchObject({ next: 'wrapUp', lifetime: false });
    spend(response(10, 1), 100);
    budget.startTurn(1_000);
    expect(budget.decide(1_000, 100)).toEqual({ next: 'wrapUp', limit: LimitName.maxSteps, lifetime: true });
    spend(response(10, 1), 100);
    budget.startTurn(2_000);
    expect(budget.decide(2_000, 100)).toEqual({ next: 'stop', limit: LimitName.maxSteps, lifetime: true });
  });

  it('keeps the old rule for runs started before wrap-ups: stop once spent', () => {
    const { budget, spend } = run({ maxSteps: 2 });
    spend(response(10, 1), 100);
    expect(budget.legacyDecision(0)).toEqual({ next: 'call' });
    spend(response(10, 1), 100);
    expect(budget.legacyDecision(0)).toEqual({ next: 'stop', limit: LimitName.maxSteps, lifetime: false });
  });
});

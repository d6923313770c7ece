import type { ModelCallResult } from '../../activities';
import { addUsage, exceededLimit, ZERO_USAGE } from '../../workflows/budget';
import { parseArguments, toolErrorMessage, unknownToolError } from '../../workflows/tool-messages';
import { LimitName, type Budgets, type ToolSpec, type Usage } from '../../src/types';

function response(inputTokens: number, outputTokens: number, costUsd: number, costKnown = true): ModelCallResult {
  return {
    model: 'gpt-4o-mini',
    message: { role: 'assistant', content: 'ok' },
    finishReason: 'stop',
    inputTokens,
    outputTokens,
    costUsd,
    costKnown,
  };
}

function usage(totalTokens: number, costUsd: number): Usage {
  return { inputTokens: totalTokens, outputTokens: 0, totalTokens, costUsd, costKnown: true };
}

describe('addUsage', () => {
  it('sums tokens and cost over responses, total = input + output', () => {
    const after = [response(100, 20, 0.01), response(50, 5, 0.002)].reduce(addUsage, ZERO_USAGE);
    expect(after).toEqual({
      inputTokens: 150,
      outputTokens: 25,
      totalTokens: 175,
      costUsd: expect.closeTo(0.012, 10),
      costKnown: true,
      byModel: {
        'gpt-4o-mini': {
          calls: 2,
          inputTokens: 150,
          outputTokens: 25,
          totalTokens: 175,
          costUsd: expect.closeTo(0.012, 10),
        },
      },
    });
  });

  it('counts each response under the model that answered it', () => {
    const after = [response(100, 20, 0.01), { ...response(50, 5, 0.002), model: 'fallback' }].reduce(
      addUsage,
      ZERO_USAGE,
    );
    expect(after.byModel).toEqual({
      'gpt-4o-mini': { calls: 1, inputTokens: 100, outputTokens: 20, totalTokens: 120, costUsd: 0.01 },
      fallback: { calls: 1, inputTokens: 50, outputTokens: 5, totalTokens: 55, costUsd: 0.002 },
    });
    expect(after.totalTokens).toBe(175);
  });

  it('does not mutate the usage it is given', () => {
    const before = { ...ZERO_USAGE };
    addUsage(ZERO_USAGE, response(1, 1, 1));
    expect(ZERO_USAGE).toEqual(before);
  });

  it('marks the cost unknown once any response is unpriced, and keeps it unknown', () => {
    const afterUnpriced = addUsage(addUsage(ZERO_USAGE, response(10, 1, 0.001)), response(10, 1, 0, false));
    expect(afterUnpriced.costKnown).toBe(false);
    expect(addUsage(afterUnpriced, response(10, 1, 0.001)).costKnown).toBe(false);
  });
});

describe('exceededLimit', () => {
  const within = { steps: 2, usage: usage(500, 0.05), startedAtMs: 0 };
  const now = 30_000;

  it('is undefined when no limits are set, however much was spent', () => {
    expect(exceededLimit({}, { steps: 1e6, usage: usage(1e9, 1e6), startedAtMs: 0 }, 1e9)).toBeUndefined();
  });

  it('is undefined while every limit holds', () => {
    const limits: Budgets = { maxSteps: 3, maxTokens: 501, maxCostUsd: 0.06, maxDurationSeconds: 31 };
    expect(exceededLimit(limits, within, now)).toBeUndefined();
  });

  it.each<[LimitName, Budgets]>([
    [LimitName.maxSteps, { maxSteps: 2 }],
    [LimitName.maxTokens, { maxTokens: 500 }],
    [LimitName.maxCostUsd, { maxCostUsd: 0.05 }],
    [LimitName.maxDurationSeconds, { maxDurationSeconds: 30 }],
  ])('reports %s once the value reaches the limit exactly', (name, limits) => {
    expect(exceededLimit(limits, within, now)).toBe(name);
  });

  it.each<[LimitName, Budgets]>([
    [LimitName.maxSteps, { maxSteps: 3 }],
    [LimitName.maxTokens, { maxTokens: 501 }],
    [LimitName.maxCostUsd, { maxCostUsd: 0.051 }],
    [LimitName.maxDurationSeconds, { maxDurationSeconds: 30.5 }],
  ])('does not report %s just below the limit', (_name, limits) => {
    expect(exceededLimit(limits, within, now)).toBeUndefined();
  });

  it.each<[LimitName, Budgets]>([
    [LimitName.maxSteps, { maxSteps: 1, maxTokens: 1, maxCostUsd: 0.01, maxDurationSeconds: 1 }],
    [LimitName.maxTokens, { maxSteps: 10, maxTokens: 1, maxCostUsd: 0.01, maxDurationSeconds: 1 }],
    [LimitName.maxCostUsd, { maxSteps: 10, maxTokens: 10_000, maxCostUsd: 0.01, maxDurationSeconds: 1 }],
    [LimitName.maxDurationSeconds, { maxSteps: 10, maxTokens: 10_000, maxCostUsd: 1, maxDurationSeconds: 1 }],
  ])('reports %s first when it and every later limit are spent', (name, limits) => {
    expect(exceededLimit(limits, within, now)).toBe(name);
  });
});

describe('parseArguments', () => {
  it('accepts a JSON object', () => {
    expect(parseArguments('{"city": "Paris", "days": 3}')).toEqual({ ok: true, args: { city: 'Paris', days: 3 } });
  });

  it.each(['', '   ', '\n'])('treats the blank string %j as no arguments', (raw) => {
    expect(parseArguments(raw)).toEqual({ ok: true, args: {} });
  });

  it('explains invalid JSON, quoting the start of the raw text', () => {
    const raw = `{"city": "Paris"${'x'.repeat(500)}`;
    const parsed = parseArguments(raw);
    if (parsed.ok) throw new Error('expected invalid JSON to be rejected');
    expect(parsed.error).toMatch(/^Arguments are not valid JSON \(.+\): /);
    expect(parsed.error.endsWith(`: ${raw.slice(0, 200)}`)).toBe(true);
    expect(parsed.error).not.toContain(raw.slice(0, 201));
  });

  it.each(['[1, 2]', 'null', '42', '"text"', 'true'])('rejects the non-object JSON %s', (raw) => {
    expect(parseArguments(raw)).toEqual({ ok: false, error: 'Arguments must be a JSON object.' });
  });
});

describe('tool error messages', () => {
  const spec = (name: string): ToolSpec => ({
    name,
    description: name,
    parameters: { type: 'object' },
    requiresApproval: false,
    startToCloseTimeoutMs: 1000,
    retry: {},
  });

  it('unknownToolError lists the available tools', () => {
    expect(unknownToolError('fly', [spec('walk'), spec('swim')])).toBe(
      'Unknown tool "fly". Available tools: walk, swim.',
    );
  });

  it('unknownToolError says (none) when the agent has no tools', () => {
    expect(unknownToolError('fly', [])).toBe('Unknown tool "fly". Available tools: (none).');
  });

  it('toolErrorMessage is a tool message in words: Error: and the error, no JSON', () => {
    const message = toolErrorMessage('call_1', 'it "broke"');
    expect(message).toEqual({ role: 'tool', tool_call_id: 'call_1', content: 'Error: it "broke"' });
  });
});

/**
 * Usage as the provider bills it (issue #27): an answer that reports cached input and reasoning
 * tokens is counted with them apart in the run's usage, `status --json`, `export --format jsonl`, and
 * costed with the cached-input price; a `maxCostUsd` budget is held to that cost. An agent's
 * `modelSettings` go out with every request and are recorded in its runs' spec.
 */
import { z } from 'zod';
import type { ModelCallInput } from '../../activities';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import type { AgentRunResult } from '../../src/types';
import { byTurn, reply, type ModelRequest } from '../../testing';
import { runCli } from '../support/cli';
import { useScriptedWorker } from '../support/harness';
import { activityInputs } from '../support/history';

const MODEL = 'billed-model';
const PRICE = { inputPerMillion: 10, cachedInputPerMillion: 1, outputPerMillion: 1 };
/** The answer of the issue: 1,000 cached of 1,200 prompt tokens; 300 reasoning of 400 completion tokens. */
const USAGE = { input: 1_200, cached: 1_000, output: 400, reasoning: 300 };
/** By hand: 200 uncached and 1,000 cached input tokens, 400 output tokens (reasoning among them, billed once). */
const BILLED_USD = (200 * 10 + 1_000 * 1 + 400 * 1) / 1e6;
const SETTINGS = {
  reasoning_effort: 'low',
  temperature: 0.2,
  top_p: 0.9,
  seed: 7,
  max_completion_tokens: 900,
} as const;

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks an order up.',
  input: z.object({ id: z.string() }),
  execute: ({ id }) => ({ id, status: 'shipped' }),
});
const agent = defineAgent({
  name: 'billed',
  instructions: 'Answer.',
  model: MODEL,
  tools: [lookup],
  modelSettings: SETTINGS,
});
const setup = useScriptedWorker(
  { MODEL_PRICES: JSON.stringify({ [MODEL]: PRICE }) },
  new AgentRegistry().add([agent], 'test'),
);
const env = () => ({
  TEMPORAL_ADDRESS: setup.worker.config.TEMPORAL_ADDRESS,
  TASK_QUEUE: setup.worker.config.TASK_QUEUE,
});

/** A lookup, then the answer: each reporting `USAGE`. */
const lookupThenAnswer = () =>
  byTurn([
    reply.tools([{ id: 'call_1', name: 'lookup', args: { id: '1043' } }], USAGE),
    reply.text('Order 1043 has shipped.', USAGE),
  ]);

describe('usage as billed', () => {
  let id: string;
  let result: AgentRunResult;
  let requests: ModelRequest[];
  beforeAll(async () => {
    setup.script = lookupThenAnswer();
    const handle = await setup.worker.start({ agent: 'billed', message: 'Where is order 1043?' });
    id = handle.workflowId;
    result = await handle.result();
    requests = [...setup.model.requests];
  });

  it('counts cached input and reasoning apart, inside input and output, and costs them at the cached price', () => {
    expect(result.status).toBe('completed');
    expect(result.usage).toMatchObject({
      inputTokens: 2_400,
      cachedInputTokens: 2_000,
      outputTokens: 800,
      reasoningTokens: 600,
      totalTokens: 3_200,
      costKnown: true,
    });
    expect(result.usage.costUsd).toBeCloseTo(2 * BILLED_USD, 12);
    expect(result.usage.byModel?.[MODEL]).toMatchObject({ calls: 2, cachedInputTokens: 2_000, reasoningTokens: 600 });
  });

  it('`status --json` and `export --format jsonl` show them apart, per step and in total', async () => {
    const status = await runCli(['--json', 'status', id], env());
    expect(status).toMatchObject({ code: 0, stderr: '' });
    const report = JSON.parse(status.stdout);
    expect(report.usage).toMatchObject({ inputTokens: 2_400, cachedInputTokens: 2_000, reasoningTokens: 600 });
    expect(report.usage.costUsd).toBeCloseTo(2 * BILLED_USD, 12);
    expect(report.stepUsage[0]).toMatchObject({ inputTokens: 1_200, cachedInputTokens: 1_000, reasoningTokens: 300 });
    expect(report.stepUsage[0].costUsd).toBeCloseTo(BILLED_USD, 12);

    const exported = await runCli(['export', id, '--format', 'jsonl'], env());
    expect(exported).toMatchObject({ code: 0, stderr: '' });
    const usage = JSON.parse(exported.stdout.trimEnd().split('\n').at(-1)!);
    expect(usage).toMatchObject({
      type: 'usage',
      inputTokens: 2_400,
      cachedInputTokens: 2_000,
      outputTokens: 800,
      reasoningTokens: 600,
    });
    expect(usage.costUsd).toBeCloseTo(2 * BILLED_USD, 12);
    expect(usage.steps).toHaveLength(2);
    expect(usage.steps[1]).toMatchObject({ step: 2, cachedInputTokens: 1_000, reasoningTokens: 300 });

    const text = await runCli(['status', id], env());
    expect(text.stdout).toContain('3200 tokens (2400 (2000 cached) in, 800 (600 reasoning) out)');
  });

  it("sends the agent's modelSettings with every request and records them in the run's spec", async () => {
    expect(requests).toHaveLength(2);
    for (const request of requests) {
      expect(request.body).toMatchObject({ reasoning_effort: 'low', temperature: 0.2, top_p: 0.9, seed: 7 });
      // The cap goes out in the field the model takes it in.
      expect(request.maxCompletionTokens).toBe(900);
    }
    const inputs = await activityInputs<ModelCallInput>(setup.worker.client.workflow.getHandle(id), 'callModel');
    expect(inputs[0].modelSettings).toEqual(SETTINGS);
  });
});

describe('a maxCostUsd budget', () => {
  it('is held to the billed cost: the run stops within it, its cost the hand computation', async () => {
    setup.script = lookupThenAnswer();
    // Past one call's billed cost, short of the same call at the uncached price (0.0124 USD).
    const maxCostUsd = 0.01;
    const handle = await setup.worker.start({
      agent: 'billed',
      message: 'Where is order 1043?',
      limits: { maxCostUsd },
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxCostUsd', steps: 1 });
    expect(result.usage.costUsd).toBeCloseTo(BILLED_USD, 12);
    expect(result.usage.costUsd).toBeLessThanOrEqual(maxCostUsd);
    // The second call would have passed the budget: it was never made.
    expect(setup.model.requests).toHaveLength(1);
  });
});

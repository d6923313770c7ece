/**
 * Usage as the provider bills it (issue #27): an answer that reports cached input and reasoning
 * tokens is counted with them apart in the run's usage, `status --json`, `export --format jsonl`, and
 * costed with the cached-input price; a `maxCostUsd` budget is held to that cost. An agent's
 * `modelSettings` go out with every request and are recorded in its runs' spec.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import type { ModelCallInput } from '../../activities';
import { OPTIONAL_SEARCH_ATTRIBUTES, searchAttributes } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import type { AgentRunResult } from '../../src/types';
import { byTurn, reply, type ModelRequest } from '../../testing';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { testAddress, useScriptedWorker, workerEnv } from '../support/harness';
import { activityInputs, recordedSpec } from '../support/history';
import { spawnWorker, waitUntilPolling } from '../support/worker-process';

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

  it('keeps AgentCachedTokens and AgentReasoningTokens current, for visibility queries', async () => {
    const handle = setup.worker.client.workflow.getHandle(id);
    expect(await recordedSpec(handle)).toMatchObject({ searchAttributes: OPTIONAL_SEARCH_ATTRIBUTES });
    const attributes = (await handle.describe()).typedSearchAttributes;
    expect(attributes.get(searchAttributes.agentCachedTokens)).toBe(2_000);
    expect(attributes.get(searchAttributes.agentReasoningTokens)).toBe(600);
    expect(attributes.get(searchAttributes.agentTokens)).toBe(3_200);
    const query = `WorkflowId = "${id}" AND AgentCachedTokens >= 2000 AND AgentReasoningTokens = 600`;
    await eventually(
      async () => (await setup.worker.client.workflow.count(query)).count === 1,
      'the run listed by them',
    );
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

describe('a namespace that has not registered the optional search attributes', () => {
  it('runs as before: the worker says so, the spec records none, the run completes without them', async () => {
    const connection = await Connection.connect({ address: testAddress() });
    try {
      const namespace = `no-token-kinds-${randomUUID().slice(0, 8)}`;
      await connection.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs('1 day'),
      });
      const { IndexedValueType } = temporal.api.enums.v1;
      const required = Object.values(searchAttributes).filter((key) => !OPTIONAL_SEARCH_ATTRIBUTES.includes(key.name));
      // A new namespace takes a moment to be known to every part of the server.
      await eventually(
        () =>
          connection.operatorService
            .addSearchAttributes({
              namespace,
              searchAttributes: Object.fromEntries(
                required.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
              ),
            })
            .then(() => true)
            .catch(() => false),
        'the namespace to take search attributes',
      );
      const taskQueue = `no-token-kinds-${randomUUID()}`;
      const worker = spawnWorker(
        workerEnv({ TASK_QUEUE: taskQueue, TEMPORAL_NAMESPACE: namespace, OPENAI_BASE_URL: setup.model.baseUrl }),
      );
      try {
        await waitUntilPolling(worker);
        expect(worker.output()).toContain(
          `namespace ${namespace} has not registered AgentCachedTokens, AgentReasoningTokens: runs started here will not keep them`,
        );
        setup.script = () => reply.text('Hello.', USAGE);
        const client = new Client({ connection, namespace });
        const handle = await client.workflow.start('agentRun', {
          taskQueue,
          workflowId: `no-token-kinds-${randomUUID()}`,
          args: [{ agent: 'helpdesk', message: 'Hi' }],
        });
        await expect(handle.result()).resolves.toMatchObject({ status: 'completed', output: 'Hello.' });
        expect(await recordedSpec(handle)).not.toHaveProperty('searchAttributes');
        const attributes = (await handle.describe()).typedSearchAttributes;
        expect(attributes.get(searchAttributes.agentTokens)).toBe(1_600);
        expect(attributes.get(searchAttributes.agentCachedTokens)).toBeUndefined();
      } finally {
        worker.child.kill('SIGTERM');
        await worker.exited;
      }
    } finally {
      await connection.close();
    }
  });
});

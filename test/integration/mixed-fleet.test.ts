/**
 * A mixed fleet: workers of one task queue that do not all register the same agents (a rolling
 * deploy that adds one, two apps on one queue). A run, and a tool call, is left to a worker that
 * registers its agent; only when none takes it within UNKNOWN_AGENT_WAIT_SECONDS does it fail.
 */
import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { defineAgent } from '../../src/agent';
import { pluginApi } from '../../src/plugin-api';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { z } from 'zod';
import { lastOf, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import handoffAgents, { actingAgent } from '../support/handoff-agents';
import { timerSummaries } from '../support/history';
import { runCli } from '../support/cli';
import { startTestWorker, testAddress, type TestWorker } from '../support/harness';
import { runFailureOf } from '../support/outcomes';

const EventType = temporal.api.enums.v1.EventType;

const getBalance = defineTool({
  name: 'get_balance',
  description: 'The balance of an account.',
  input: z.object({ account: z.string() }),
  execute: ({ account }) => ({ account, balanceUsd: 1234 }),
});
const bank = defineAgent({ name: 'bank', instructions: 'Answer about accounts.', tools: [getBalance] });
const shop = defineAgent({ name: 'shop', instructions: 'Answer about orders.', tools: [] });

const withBank = () => new AgentRegistry().add([bank, shop], 'test');
const withoutBank = () => new AgentRegistry().add([shop], 'test');

let model: ScriptedModel;
const workers: TestWorker[] = [];

beforeAll(async () => {
  model = await startScriptedModel((request) => {
    const result = lastOf(request, 'tool');
    if (result) return reply.text(`Your balance: ${result.content}`);
    return reply.tools([{ name: 'get_balance', args: { account: 'A-1' } }]);
  });
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
});
afterAll(async () => {
  await model?.close();
});

async function worker(registry: AgentRegistry, env: Record<string, string>): Promise<TestWorker> {
  const started = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, ...env }, registry);
  workers.push(started);
  return started;
}

describe('a mixed fleet on one task queue', () => {
  /**
   * `runs` runs of `bank` on a queue whose first worker lacks it; the one with it starts after they
   * did, with `withEnv` besides `env`.
   */
  async function runsLeftToTheWorkerWithBank(env: Record<string, string> = {}, runs = 10, withEnv = {}) {
    const queue = { TASK_QUEUE: `mixed-${randomUUID()}`, ...env };
    // The worker without `bank` takes the runs' first tasks alone; the one with it starts meanwhile.
    const without = await worker(withoutBank(), queue);
    const handles = await Promise.all(
      Array.from({ length: runs }, () => without.start({ agent: 'bank', message: 'What is my balance?' })),
    );
    await worker(withBank(), { ...queue, ...withEnv });
    const results = await Promise.all(handles.map((handle) => handle.result()));
    for (const result of results) {
      expect(result).toMatchObject({ status: 'completed', steps: 2 });
      expect(result.output).toBe('Your balance: {"account":"A-1","balanceUsd":1234}');
    }
    return Promise.all(handles.map(async (handle) => (await handle.fetchHistory()).events ?? []));
  }

  const NOT_HERE =
    /^agent "bank" is not registered on this worker \(known agents: shop\); left to a worker that registers it for \d+ s more$/;

  it('completes every run of an agent only one of two workers registers: the spec is resolved where it is known', async () => {
    for (const events of await runsLeftToTheWorkerWithBank()) {
      // No workflow task failed: the worker without the agent said so, and the resolution went to the queue.
      expect(events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
      const marker = events.find((event) => event.markerRecordedEventAttributes?.failure);
      const failure = marker?.markerRecordedEventAttributes?.failure;
      expect(failure?.cause?.message ?? failure?.message).toMatch(NOT_HERE);
      const resolutions = events.filter(
        (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveAgentSpec',
      );
      expect(resolutions).toHaveLength(1);
      const summary = resolutions[0].userMetadata?.summary;
      expect(summary && defaultPayloadConverter.fromPayload(summary)).toBe(
        'resolving the spec on a worker that registers agent bank',
      );
      const started = events.find(
        (event) =>
          event.activityTaskStartedEventAttributes &&
          String(event.activityTaskStartedEventAttributes.scheduledEventId) === String(resolutions[0].eventId),
      )?.activityTaskStartedEventAttributes;
      // Tries that the worker without the agent took failed; the last is recorded with the try that won.
      if ((started?.attempt ?? 1) > 1) expect(started?.lastFailure?.message).toMatch(NOT_HERE);
    }
  }, 120_000);

  it("sends a handed-over run's local tool calls on to a worker that registers the tool", async () => {
    // The worker with the agent makes model and tool calls local; the one running the runs lacks the tool.
    for (const events of await runsLeftToTheWorkerWithBank({}, 10, { LOCAL_ACTIVITIES: 'model,tools' })) {
      // Local calls, in order: the spec, the model, the tool (failed here), the model.
      const local = events.flatMap((event) => {
        const payload = event.markerRecordedEventAttributes?.details?.data?.payloads?.[0];
        if (event.markerRecordedEventAttributes?.markerName !== 'core_local_activity' || !payload) return [];
        const { activity_type: type } = defaultPayloadConverter.fromPayload<{ activity_type: string }>(payload);
        return [`${type}${event.markerRecordedEventAttributes.failure ? ' failed' : ''}`];
      });
      expect(local).toEqual(['resolveAgentSpec failed', 'callModel', 'runTool failed', 'callModel']);
      // Regular calls: the spec, then the tool, scheduled again until a worker with it took it.
      const scheduled = events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
      expect(scheduled.filter((name, index) => name !== scheduled[index - 1])).toEqual(['resolveAgentSpec', 'runTool']);
    }
  }, 120_000);

  it("resolves a handed-over run's handoff on a worker that registers the agent it goes to", async () => {
    // Triage hands the question to billing, which answers it: the runs need no tool of the other worker.
    const handoffModel = await startScriptedModel((request) =>
      actingAgent(request) === 'billing'
        ? reply.text('billing: answered.')
        : reply.tools([{ name: 'transfer_to_billing', args: { reason: 'an invoice question' } }]),
    );
    try {
      const queue = { TASK_QUEUE: `mixed-${randomUUID()}`, OPENAI_BASE_URL: handoffModel.baseUrl };
      const without = await worker(withoutBank(), queue);
      const handles = await Promise.all(
        Array.from({ length: 4 }, () => without.start({ agent: 'triage', message: 'invoice 7: was it paid?' })),
      );
      await worker(new AgentRegistry().add(handoffAgents(pluginApi), 'handoff-agents'), queue);
      for (const handle of handles) {
        expect(await handle.result()).toMatchObject({ output: 'billing: answered.', answeredBy: 'billing' });
        const resolutions = ((await handle.fetchHistory()).events ?? []).flatMap((event) =>
          event.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveAgentSpec'
            ? [defaultPayloadConverter.fromPayload(event.userMetadata!.summary!)]
            : [],
        );
        expect(resolutions).toEqual([
          'resolving the spec on a worker that registers agent triage',
          'resolving the spec on a worker that registers agent billing',
        ]);
      }
    } finally {
      await handoffModel.close();
    }
  }, 120_000);

  it('leaves the whole run to another worker when the workers run tools locally', async () => {
    // Two runs: each is handed on by Temporal's retries of its first workflow task, at growing intervals.
    for (const events of await runsLeftToTheWorkerWithBank({ LOCAL_ACTIVITIES: 'tools' }, 2)) {
      const failed = events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
      expect(failed.length).toBeGreaterThan(0);
      expect(failed[0].workflowTaskFailedEventAttributes?.failure?.message).toMatch(NOT_HERE);
      expect(
        events.some((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'resolveAgentSpec'),
      ).toBe(false);
    }
  }, 240_000);

  it('schedules a tool call again until a worker that registers the tool takes it', async () => {
    const queue = { TASK_QUEUE: `mixed-${randomUUID()}` };
    // Runs and model calls on workers with `bank`; its tool calls reach, at first, a worker without it.
    const workflows = await worker(withBank(), { ...queue, WORKER_ROLE: 'workflows' });
    await worker(withBank(), { ...queue, WORKER_ROLE: 'model' });
    const without = await worker(withoutBank(), { ...queue, WORKER_ROLE: 'tools' });
    const handle = await workflows.start({ agent: 'bank', message: 'What is my balance?' });
    const failedTools = async () =>
      ((await handle.fetchHistory()).events ?? []).filter(
        (event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
      );
    while ((await failedTools()).length < 2) await new Promise((resolve) => setTimeout(resolve, 250));
    // The tools worker with `bank` replaces the one without: the call's next try is its.
    await worker(withBank(), { ...queue, WORKER_ROLE: 'tools' });
    await without.stop();
    workers.splice(workers.indexOf(without), 1);

    expect(await handle.result()).toMatchObject({
      status: 'completed',
      output: 'Your balance: {"account":"A-1","balanceUsd":1234}',
    });
    const failures = (await failedTools()).map((event) => event.activityTaskFailedEventAttributes?.failure);
    expect(failures[0]).toMatchObject({
      message: 'tool "get_balance" of agent "bank" is not registered on this worker',
      applicationFailureInfo: { type: 'ToolNotRegistered', nonRetryable: true },
    });
    expect(await timerSummaries(handle)).toEqual(
      expect.arrayContaining(['waiting for a worker that registers tool get_balance']),
    );
  }, 120_000);

  it('fails a run UnknownAgent, naming the agent, once no worker that registers it took it in time', async () => {
    const without = await worker(withoutBank(), {
      TASK_QUEUE: `mixed-${randomUUID()}`,
      UNKNOWN_AGENT_WAIT_SECONDS: '3',
    });
    const startedAt = Date.now();
    const handle = await without.start({ agent: 'bank', message: 'What is my balance?' });
    const failure = await runFailureOf(handle);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(3_000);
    expect(failure).toMatchObject({
      type: 'UnknownAgent',
      nonRetryable: true,
      message: 'unknown agent "bank"; known agents: shop; no worker that registers it took the run within 3 s',
    });
  }, 90_000);

  it('start of an agent this environment does not define warns at once, in one line', async () => {
    const env = {
      TEMPORAL_ADDRESS: testAddress(),
      TASK_QUEUE: `mixed-${randomUUID()}`,
      AGENT_MODULES: 'test/fixtures/weather-agent.mjs',
    };
    const started = await runCli(['start', 'bank', 'What is my balance?'], env);
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/^bank-\S+\n$/);
    expect(started.stderr).toBe(
      'warning: AGENT_MODULES here defines no agent "bank" (it defines weather): unless a worker registers it, ' +
        "the run fails UnknownAgent after the workers' UNKNOWN_AGENT_WAIT_SECONDS (600 s by default)\n",
    );
    // An agent it defines: nothing to say.
    expect((await runCli(['start', 'weather', 'Rain in Paris?'], env)).stderr).toBe('');
  });
});

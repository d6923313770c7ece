/**
 * Cancelling a run (issue #8): a tool that is running hears of it through its heartbeats within 2 s,
 * the run closes as cancelled only once the tool has stopped, and what the run did (transcript,
 * usage, status) stays readable afterwards. A call waiting for approval is no longer listed as pending.
 * Cancelled through the client, the project CLI and the plain Temporal CLI alike.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { WorkflowFailedError, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { searchAttributes, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import type { agentRun } from '../../workflows';
import { reply, startScriptedModel, turnOf, type ScriptedModel } from '../../testing';
import { temporalBinary } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { runCli } from '../support/cli';
import { startTestWorker, type TestWorker } from '../support/harness';

const EventType = temporal.api.enums.v1.EventType;
const run = promisify(execFile);

type Handle = WorkflowHandleWithFirstExecutionRunId<typeof agentRun>;

/** The most time from the cancel request to the tool's `ctx.signal` aborting. */
const ABORT_WITHIN_MS = 2_000;
/** How long the tool takes to clean up after the abort: the run must not close before it is done. */
const CLEANUP_MS = 1_000;
/** Tokens of the (only) model call of each run. */
const FIRST_CALL = { input: 123, output: 45 };

/** What one invocation of `long_task` saw, by its label (the worker runs in this process). */
interface ToolRecord {
  startedAt: number;
  heartbeats: number;
  abortedAt?: number;
  finishedAt?: number;
  outcome?: 'aborted' | 'completed';
}
const toolRuns = new Map<string, ToolRecord>();
/** Labels `risky_action` ran with: it never may, once its run is cancelled before approval. */
const riskyRuns: string[] = [];

const longTask = defineTool({
  name: 'long_task',
  description: 'Works for up to a minute, reporting progress.',
  input: z.object({ label: z.string() }),
  timeout: '90s',
  retry: { maximumAttempts: 1 },
  async execute({ label }, ctx) {
    const record: ToolRecord = { startedAt: Date.now(), heartbeats: 0 };
    toolRuns.set(label, record);
    ctx.signal.addEventListener('abort', () => (record.abortedAt = Date.now()), { once: true });
    try {
      while (Date.now() - record.startedAt < 60_000) {
        if (ctx.signal.aborted) {
          // Cleaning up takes a while: the run must wait for it before it reports `cancelled`.
          await sleep(CLEANUP_MS);
          record.outcome = 'aborted';
          throw ctx.signal.reason;
        }
        ctx.heartbeat({ heartbeats: record.heartbeats });
        record.heartbeats += 1;
        await sleep(200);
      }
      record.outcome = 'completed';
      return { done: true };
    } finally {
      record.finishedAt = Date.now();
    }
  },
});

const riskyAction = defineTool({
  name: 'risky_action',
  description: 'Does something a person must approve first.',
  input: z.object({ label: z.string() }),
  requiresApproval: true,
  execute: ({ label }) => {
    riskyRuns.push(label);
    return { done: true };
  },
});

const agent = defineAgent({
  name: 'cancel-test',
  instructions: 'Do the work with your tools.',
  tools: [longTask, riskyAction],
});

let model: ScriptedModel;
let worker: TestWorker;

beforeAll(async () => {
  model = await startScriptedModel((request) => {
    if (turnOf(request) > 0) return reply.text('Done.');
    const said = request.messages.find((message) => message.role === 'user')?.content ?? '';
    const tool = said.startsWith('approve') ? 'risky_action' : 'long_task';
    return reply.tools([{ name: tool, args: { label: said } }], FIRST_CALL);
  });
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl }, new AgentRegistry().add([agent], 'test'));
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

/** Runs the project CLI against the test server. */
const cli = (args: string[]) => runCli(args, { TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS });

/** How `result()` settled, and whether the tool had finished by then. */
interface Closed {
  error: unknown;
  toolFinishedBefore: boolean;
}

function closedOf(handle: Handle, label?: string): Promise<Closed> {
  return handle.result().then(
    (result) => ({ error: new Error(`the run completed: ${JSON.stringify(result)}`), toolFinishedBefore: false }),
    (error: unknown) => ({
      error,
      toolFinishedBefore: label !== undefined && toolRuns.get(label)?.finishedAt !== undefined,
    }),
  );
}

function expectCancelled(closed: Closed): void {
  expect(closed.error).toBeInstanceOf(WorkflowFailedError);
  expect((closed.error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

function eventOf(events: HistoryEvent[], type: temporal.api.enums.v1.EventType): HistoryEvent {
  const event = events.find((candidate) => candidate.eventType === type);
  if (!event) throw new Error(`no ${EventType[type]} event in the run's history`);
  return event;
}

/** The run closed as cancelled, and its `AgentStatus` search attribute says so. */
async function expectClosedCancelled(handle: Handle): Promise<void> {
  expect((await handle.describe()).status.name).toBe('CANCELLED');
  await eventually(
    async () =>
      (await handle.describe()).typedSearchAttributes.get(searchAttributes.agentStatus) === 'cancelled' || undefined,
    'the AgentStatus search attribute to say cancelled',
    10_000,
  );
}

/** What the closed run shows of itself: status, search attribute, state (query), transcript and usage. */
async function expectReadableAfterCancel(handle: Handle, tool: string): Promise<void> {
  await expectClosedCancelled(handle);
  const state = await handle.query(stateQuery);
  expect(state).toMatchObject({ status: 'cancelled', agent: agent.name, mode: 'task', step: 1, pendingApprovals: [] });
  expect(state.messages.map((message) => message.role)).toEqual(['system', 'user', 'assistant']);
  const assistant = state.messages[2];
  expect(assistant.role === 'assistant' && assistant.tool_calls?.map((call) => call.function.name)).toEqual([tool]);
  expect(state.usage).toMatchObject({
    inputTokens: FIRST_CALL.input,
    outputTokens: FIRST_CALL.output,
    totalTokens: FIRST_CALL.input + FIRST_CALL.output,
  });
  // Cancelled means no further model call.
  const calls = model.requests.filter((request) => request.messages[1]?.content === state.messages[1].content);
  expect(calls).toHaveLength(1);
}

const cancellers: [string, (handle: Handle) => Promise<unknown>][] = [
  ['the client (handle.cancel())', (handle) => handle.cancel()],
  [
    'the project CLI (cancel <id>)',
    async (handle) => {
      expect(await cli(['cancel', handle.workflowId])).toMatchObject({
        code: 0,
        stdout: `cancel requested for ${handle.workflowId}\n`,
      });
    },
  ],
  [
    'the Temporal CLI (temporal workflow cancel)',
    async (handle) => {
      await run(temporalBinary(), [
        'workflow',
        'cancel',
        '--workflow-id',
        handle.workflowId,
        '--address',
        worker.config.TEMPORAL_ADDRESS,
      ]);
    },
  ],
];

/** Abort latencies measured, for the report at the end. */
const latencies: Record<string, number> = {};

describe('cancelling a run while a heartbeating tool runs', () => {
  it.each(cancellers)(
    'through %s: the tool sees the abort within 2 s and the run closes cancelled after the tool stopped',
    async (via, cancel) => {
      const label = `work ${randomUUID()}`;
      const handle = await worker.start({ agent: agent.name, message: label });
      const record = await eventually(() => toolRuns.get(label), 'the tool to start');
      // A few heartbeats in: the tool is well under way.
      await eventually(() => record.heartbeats >= 3, 'the tool to heartbeat');
      expect((await handle.query(stateQuery)).status).toBe('running');

      const closed = closedOf(handle, label);
      const requestedAt = Date.now();
      await cancel(handle);
      await eventually(() => record.abortedAt, 'the tool to see the abort', 15_000);
      const outcome = await closed;
      expectCancelled(outcome);
      // result() rejected only once the tool's execute had returned (here: thrown after its clean-up).
      expect(outcome.toolFinishedBefore).toBe(true);
      expect(record.outcome).toBe('aborted');
      expect(record.finishedAt! - record.abortedAt!).toBeGreaterThanOrEqual(CLEANUP_MS - 10);

      const events = (await handle.fetchHistory()).events ?? [];
      const cancelRequested = eventOf(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
      const activityCanceled = eventOf(events, EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED);
      const runCanceled = eventOf(events, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED);
      // Measured from the server's record of the request (a CLI spends a while starting before it sends it).
      const requestedAtServer = tsToMs(cancelRequested.eventTime);
      const latency = record.abortedAt! - requestedAtServer;
      latencies[via] = latency;
      expect(latency).toBeGreaterThanOrEqual(0);
      expect(latency).toBeLessThanOrEqual(ABORT_WITHIN_MS);
      if (via.startsWith('the client')) expect(record.abortedAt! - requestedAt).toBeLessThanOrEqual(ABORT_WITHIN_MS);
      // The tool's activity was reported cancelled (not failed or timed out), after the tool finished,
      // and the run closed only after that.
      expect(events.some((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)).toBe(false);
      expect(events.some((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT)).toBe(false);
      expect(Number(activityCanceled.eventId)).toBeLessThan(Number(runCanceled.eventId));
      expect(tsToMs(activityCanceled.eventTime)).toBeGreaterThanOrEqual(record.finishedAt!);
      expect(tsToMs(runCanceled.eventTime)).toBeGreaterThanOrEqual(record.finishedAt!);

      await expectReadableAfterCancel(handle, 'long_task');
    },
    60_000,
  );

  it('`status <id>` of the cancelled run prints its status and usage; `--json status` has the transcript', async () => {
    const label = `work ${randomUUID()}`;
    const handle = await worker.start({ agent: agent.name, message: label });
    await eventually(() => toolRuns.get(label)?.heartbeats, 'the tool to run');
    const closed = closedOf(handle, label);
    await handle.cancel();
    expectCancelled(await closed);

    const status = await cli(['status', handle.workflowId]);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(
      /^status: cancelled\nagent: cancel-test\nsteps: 1\nusage: 168 tokens \(123 in, 45 out\), \$\d+\.\d{6}\nclosed: \S+\n$/,
    );
    const json = await cli(['--json', 'status', handle.workflowId]);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ status: 'cancelled', closed: true, usage: { totalTokens: 168 } });
    const { state } = report;
    expect(state).toMatchObject({
      status: 'cancelled',
      step: 1,
      usage: { inputTokens: 123, outputTokens: 45, totalTokens: 168 },
      pendingApprovals: [],
    });
    expect(state.messages.map((message: { role: string }) => message.role)).toEqual(['system', 'user', 'assistant']);
    expect(state.messages[2].tool_calls[0].function).toEqual({
      name: 'long_task',
      arguments: JSON.stringify({ label }),
    });
  }, 60_000);
});

describe('cancelling a run before a worker has taken it', () => {
  it('ends the run cancelled, not failed, having called no model', async () => {
    const label = `early ${randomUUID()}`;
    // The run's first workflow task waits out the delay: the cancel request comes with it.
    const handle = await worker.start({ agent: agent.name, message: label }, undefined, { startDelay: '2s' });
    const closed = closedOf(handle);
    await handle.cancel();
    expectCancelled(await closed);
    const { events } = await handle.fetchHistory();
    expect(events!.map((event) => event.eventType)).toContain(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED);
    await expectClosedCancelled(handle);
    expect(await cli(['status', handle.workflowId])).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('cancelled'),
    });
    expect(model.requests.filter((request) => request.messages.some((message) => message.content === label))).toEqual(
      [],
    );
  });
});

describe('cancelling a run while a call awaits approval', () => {
  it('ends the run cancelled with no approval pending and the tool never run', async () => {
    const label = `approve ${randomUUID()}`;
    const handle = await worker.start({ agent: agent.name, message: label });
    const pending = await eventually(
      async () => (await handle.query(stateQuery)).pendingApprovals[0],
      'the call to await approval',
    );
    expect(pending).toEqual({ callId: '1.1', tool: 'risky_action', args: { label } });
    expect((await handle.query(stateQuery)).status).toBe('awaiting_approval');

    const closed = closedOf(handle);
    await handle.cancel();
    expectCancelled(await closed);
    await expectReadableAfterCancel(handle, 'risky_action');
    expect(riskyRuns).not.toContain(label);
  });
});

afterAll(() => {
  // The measured latencies, with TEST_VERBOSE set (as the harness's worker logs are).
  if (process.env.TEST_VERBOSE && Object.keys(latencies).length)
    console.log(`abort latency after the cancel request (ms): ${JSON.stringify(latencies)}`);
});

/**
 * OpenTelemetry tracing end to end, with real worker processes exporting to an OTLP receiver in this
 * process: a span per model call and per tool call with the GenAI attributes and the scripted token
 * counts, one trace per run from the client's start across a worker's SIGKILL and continue-as-new,
 * no span sent twice, and the JSON log's run, step and trace ids. Without
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, nothing is sent.
 */
import { AgentClient } from '../../client/agent-client';
import { SpanAttribute } from '../../runtime/genai-spans';
import { loadTemporalConfig } from '../../src/config';
import { flushTracing, shutdownTracing } from '../../src/tracing';
import { byTurn, reply, turnOf, type Reply } from '../../testing';
import { eventually } from '../support/eventually';
import { testAddress, workerEnv } from '../support/harness';
import { startOtlpReceiver, StatusCode, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';
import { temporal } from '@temporalio/proto';

const { PendingActivityState, WorkflowExecutionStatus } = temporal.api.enums.v1;

const processes = useWorkerProcesses();

/** Each turn's token counts, all different, so each span's counts name the call they belong to. */
const usageOf = (turn: number) => ({ input: 100 + turn, output: 10 + turn });

/** Looks a word up, runs the slow step (its worker is killed there), looks another up, answers. */
const SCRIPT: Reply[] = [
  reply.tools([{ name: 'lookup', args: { word: 'zanzibar' } }], usageOf(0)),
  reply.tools([{ name: 'slow_step', args: {} }], usageOf(1)),
  reply.tools([{ name: 'lookup', args: { word: 'trace' } }], usageOf(2)),
  reply.text('All done.', usageOf(3)),
];

let receiver: OtlpReceiver;
beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await shutdownTracing();
  await receiver.close();
});

/** A client in this process, tracing to `endpoint` when given. */
function connect(taskQueue: string, endpoint?: string): Promise<AgentClient> {
  return AgentClient.connect(
    loadTemporalConfig({
      TEMPORAL_ADDRESS: testAddress(),
      TASK_QUEUE: taskQueue,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    }),
  );
}

/** Env of a worker tracing to the receiver; spans leave in batches every 100 ms. */
function tracedEnv(baseUrl: string, overrides: Record<string, string> = {}): Record<string, string> {
  return workerEnv({
    OPENAI_BASE_URL: baseUrl,
    AGENT_MODULES: 'test/support/tracing-agent.ts',
    OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '100',
    OTEL_SERVICE_NAME: 'tracing-test-worker',
    ...overrides,
  });
}

/** A worker process of `env` that polls, and a client on its queue (tracing to `endpoint` when given). */
async function workerAndClient(env: Record<string, string>, endpoint?: string) {
  const worker = processes.spawn(env);
  await waitUntilPolling(worker);
  return { worker, agents: await connect(env.TASK_QUEUE, endpoint) };
}

const isRunOf = (workflowId: string) => (span: ReceivedSpan) =>
  span.attributes[SpanAttribute.workflowId] === workflowId || span.attributes.temporalWorkflowId === workflowId;
const isChat = (span: ReceivedSpan) => span.attributes[SpanAttribute.operation] === 'chat';
const isTool = (span: ReceivedSpan) => span.attributes[SpanAttribute.operation] === 'execute_tool';
const succeeded = (span: ReceivedSpan) => span.status !== StatusCode.error;

/** Every run of the chain `workflowId` (it continues as new). */
async function runIdsOf(client: AgentClient, workflowId: string): Promise<string[]> {
  const runs: string[] = [];
  for await (const run of client.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs.push(run.runId);
  }
  return runs;
}

/** Each GenAI span's parent is its attempt's `RunActivity` span, which was received too. */
function expectParentedByAttempts(spans: ReceivedSpan[], genAi: ReceivedSpan[]): void {
  const byId = new Map(spans.map((span) => [span.spanId, span]));
  for (const span of genAi) {
    const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
    expect(parent?.name).toBe(`RunActivity:${String(span.attributes[SpanAttribute.activityType])}`);
  }
}

describe('a traced run', () => {
  it('sends one span per model and tool call, in one trace from the client start, across a SIGKILL and continue-as-new', async () => {
    const model = await processes.startModel(byTurn(SCRIPT));
    // CONTINUE_AS_NEW_AT_BYTES=1: the run continues as new between steps as soon as that pays.
    const env = tracedEnv(model.baseUrl, {
      CONTINUE_AS_NEW_AT_BYTES: '1',
      LOG_FORMAT: 'json',
      WORKER_LOG_LEVEL: 'DEBUG',
    });
    const first = processes.spawn(env);
    await waitUntilPolling(first);
    const agents = await connect(env.TASK_QUEUE, receiver.endpoint);
    try {
      const workflowId = await agents.start({ agent: 'traced', message: 'Look things up.' });
      // The slow step runs once the model asked for it (turn 1 answered), and heartbeats.
      await eventually(
        () => model.requests.some((request) => turnOf(request) === 1),
        'the model to ask for the slow step',
      );
      await eventually(async () => {
        const { raw } = await agents.client.workflow.getHandle(workflowId).describe();
        return raw.pendingActivities?.some(
          (pending) =>
            pending.activityType?.name === 'runTool' &&
            pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED &&
            pending.lastHeartbeatTime,
        );
      }, 'the slow step to run');
      first.child.kill('SIGKILL');
      expect(await first.exited).toBe('SIGKILL');
      const second = processes.spawn(env);
      await waitUntilPolling(second);

      expect(await agents.result(workflowId)).toMatchObject({ status: 'completed', output: 'All done.' });
      // Stopped gracefully, the worker sends what it still holds before it exits.
      second.child.kill('SIGTERM');
      await second.exited;
      const runIds = await runIdsOf(agents, workflowId);
      expect(runIds.length).toBeGreaterThan(1);
      const last = await agents.client.workflow.getHandle(workflowId).describe();
      expect(last.status.code).toBe(WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED);
      // The client's span is batched too: the CLI sends it before it exits, this test now.
      await flushTracing();

      const answered = model.requests.length;
      expect(answered).toBe(SCRIPT.length);
      // Spans come in batches: wait until the last run's workflow span and every call's are in.
      const spans = await eventually(() => {
        const run = receiver.spans.filter(isRunOf(workflowId));
        const ended = run.filter((span) => span.name === 'RunWorkflow:agentRun').length === runIds.length;
        const calls = run.filter(isChat).length >= answered && run.filter(isTool).filter(succeeded).length >= 3;
        return ended && calls ? run : undefined;
      }, 'the run’s spans to arrive');

      // No span twice, among all the receiver got.
      const ids = receiver.spans.map((span) => span.spanId);
      expect(new Set(ids).size).toBe(ids.length);

      // One trace: the client's start, every run of the chain, every activity and call.
      const start = receiver.spans.filter((span) => span.name === 'StartWorkflow:agentRun');
      expect(start).toHaveLength(1);
      const traceId = start[0].traceId;
      expect(start[0].attributes.temporalWorkflowId).toBe(workflowId);
      expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([traceId]));
      const workflowRuns = spans.filter((span) => span.name === 'RunWorkflow:agentRun');
      expect(workflowRuns.map((span) => span.attributes[SpanAttribute.runId]).sort()).toEqual([...runIds].sort());
      expect(spans.filter((span) => span.name.startsWith('RunActivity:')).length).toBeGreaterThan(0);

      // One model-call span per model call, with the scripted token counts and the GenAI attributes.
      const chats = spans.filter(isChat);
      expect(chats).toHaveLength(answered);
      expect(chats.every(succeeded)).toBe(true);
      const byStep = [...chats].sort(
        (a, b) => Number(a.attributes[SpanAttribute.step]) - Number(b.attributes[SpanAttribute.step]),
      );
      expect(byStep.map((span) => span.attributes[SpanAttribute.step])).toEqual([1, 2, 3, 4]);
      byStep.forEach((span, turn) => {
        expect(span.name).toBe('chat gpt-4o-mini');
        expect(span.attributes).toMatchObject({
          [SpanAttribute.system]: 'openai',
          [SpanAttribute.requestModel]: 'gpt-4o-mini',
          [SpanAttribute.responseModel]: 'gpt-4o-mini',
          [SpanAttribute.inputTokens]: usageOf(turn).input,
          [SpanAttribute.outputTokens]: usageOf(turn).output,
          [SpanAttribute.finishReasons]: [turn === SCRIPT.length - 1 ? 'stop' : 'tool_calls'],
          [SpanAttribute.agent]: 'traced',
          [SpanAttribute.activityType]: 'callModel',
        });
        expect(runIds).toContain(span.attributes[SpanAttribute.runId]);
      });

      // One tool span per completed tool call: the killed attempt of the slow step sent none.
      const tools = spans.filter(isTool);
      expect(tools.every(succeeded)).toBe(true);
      expect(tools.map((span) => [span.name, span.attributes[SpanAttribute.toolCallId]]).sort()).toEqual([
        ['execute_tool lookup', '1.1'],
        ['execute_tool lookup', '3.1'],
        ['execute_tool slow_step', '2.1'],
      ]);
      const slow = tools.find((span) => span.attributes[SpanAttribute.toolName] === 'slow_step')!;
      expect(slow.attributes).toMatchObject({ [SpanAttribute.attempt]: 2, [SpanAttribute.step]: 2 });

      // No (operation, step or call) twice among the calls that succeeded.
      const calls = [...chats, ...tools]
        .filter(succeeded)
        .map((span) =>
          JSON.stringify([
            span.attributes[SpanAttribute.operation],
            span.attributes[SpanAttribute.activityType],
            span.attributes[SpanAttribute.toolCallId] ?? span.attributes[SpanAttribute.step],
          ]),
        );
      expect(new Set(calls).size).toBe(calls.length);
      expectParentedByAttempts(spans, [...chats, ...tools]);
      // The worker's spans name the service OTEL_SERVICE_NAME names; the client's (no such variable here) the default.
      const workerSpans = spans.filter((span) => span !== start[0]);
      expect(new Set(workerSpans.map((span) => span.service))).toEqual(new Set(['tracing-test-worker']));
      expect(start[0].service).toBe('durable-agents');
      // Names and counts only: neither the user's message nor a tool's arguments or result.
      const sent = JSON.stringify(receiver.spans);
      for (const secret of ['Look things up.', 'zanzibar', '"found"']) expect(sent).not.toContain(secret);

      // The JSON log: one object a line, with the run, the step and the trace; never a task token.
      const lines = (first.output() + second.output()).split('\n').filter((line) => line.startsWith('{'));
      const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.every((entry) => entry.time && entry.level && entry.message && !('taskToken' in entry))).toBe(
        true,
      );
      const toolLog = entries.find(
        (entry) => entry.message === 'Activity completed' && entry.activityType === 'runTool' && entry.callId === '2.1',
      );
      expect(toolLog).toMatchObject({ workflowId, step: 2, trace_id: traceId, span_id: expect.any(String) });
      expect(runIds).toContain(toolLog!.workflowRunId);
    } finally {
      await agents.close();
    }
  }, 120_000);

  it('traces local model and tool calls too (the fast path)', async () => {
    const model = await processes.startModel(
      byTurn([
        reply.tools([{ name: 'lookup', args: { word: 'local' } }], usageOf(0)),
        reply.text('Found.', usageOf(1)),
      ]),
    );
    const env = tracedEnv(model.baseUrl, { LOCAL_ACTIVITIES: 'model,tools' });
    const { worker, agents } = await workerAndClient(env, receiver.endpoint);
    try {
      const workflowId = await agents.start({ agent: 'traced', message: 'Look it up.' });
      expect(await agents.result(workflowId)).toMatchObject({ status: 'completed', output: 'Found.' });
      await flushTracing();
      worker.child.kill('SIGTERM');
      await worker.exited;

      const spans = await eventually(() => {
        const run = receiver.spans.filter(isRunOf(workflowId));
        return run.filter(isChat).length === 2 && run.filter(isTool).length === 1 ? run : undefined;
      }, 'the local calls’ spans to arrive');
      const start = receiver.spans.find((span) => span.name === 'StartWorkflow:agentRun')!;
      expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([start.traceId]));
      const genAi = spans.filter((span) => isChat(span) || isTool(span));
      expect(genAi.map((span) => span.attributes[SpanAttribute.inputTokens] ?? span.name).sort()).toEqual([
        100,
        101,
        'execute_tool lookup',
      ]);
      expectParentedByAttempts(spans, genAi);
    } finally {
      await agents.close();
    }
  }, 120_000);
});

describe('a traced tree of agents', () => {
  it("puts a sub-agent's runs and calls in its root's trace", async () => {
    // The lead asks the sub-agent once; the sub-agent looks a word up once; each then answers.
    const model = await processes.startModel((request) => {
      const answered = request.messages.some((message) => message.role === 'tool');
      if (request.messages[0].content === 'You lead the tracing.') {
        return answered
          ? reply.text('The tree was found.', usageOf(1))
          : reply.tools([{ name: 'traced', args: { message: 'Look up tree.' } }], usageOf(0));
      }
      return answered
        ? reply.text('Found tree.', usageOf(3))
        : reply.tools([{ name: 'lookup', args: { word: 'tree' } }], usageOf(2));
    });
    const { agents } = await workerAndClient(tracedEnv(model.baseUrl), receiver.endpoint);
    try {
      const workflowId = await agents.start({ agent: 'tracedLead', message: 'Find the tree.' });
      expect(await agents.result(workflowId)).toMatchObject({ status: 'completed', output: 'The tree was found.' });
      await flushTracing();
      const child = `${workflowId}/1.1`;
      const spans = await eventually(() => {
        const root = receiver.spans.filter(isRunOf(workflowId));
        const sub = receiver.spans.filter(isRunOf(child));
        const complete = root.filter(isChat).length === 2 && sub.filter(isChat).length === 2;
        return complete && sub.filter(isTool).length === 1 ? [...root, ...sub] : undefined;
      }, "the tree's spans to arrive");
      const start = receiver.spans.find((span) => span.name === 'StartWorkflow:agentRun')!;
      expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([start.traceId]));
      // The parent's start of the child is a span of that trace too.
      expect(receiver.spans.some((span) => span.name === 'StartChildWorkflow:agentRun')).toBe(true);
    } finally {
      await agents.close();
    }
  }, 120_000);
});

describe('an untraced run', () => {
  it('sends nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset, though the other OTel variables are', async () => {
    const model = await processes.startModel(byTurn(SCRIPT.filter((_, turn) => turn !== 1)));
    const { OTEL_EXPORTER_OTLP_ENDPOINT: _unset, ...env } = tracedEnv(model.baseUrl, {
      // The SDK would send here if tracing were on: the endpoint alone turns it on.
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${receiver.endpoint}/v1/traces`,
    });
    const { worker, agents } = await workerAndClient(env);
    try {
      const workflowId = await agents.start({ agent: 'traced', message: 'Look things up.' });
      expect(await agents.result(workflowId)).toMatchObject({ status: 'completed', output: 'All done.' });
    } finally {
      await agents.close();
    }
    // A worker that traced would send what it holds on its way out: it had nothing.
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(receiver.requests).toBe(0);
  }, 120_000);
});

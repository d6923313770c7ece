/**
 * Long runs (issue #9): a run's history grows with its conversation, not with its square; a worker
 * that dies mid-run is replaced by one that rebuilds the transcript from history, so the model's
 * requests are exactly what they would have been; runs continue as new between steps with their
 * totals intact; and a conversation nearing its model's context window is summarised, not lost.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { payloadCodecs } from '../../codec';
import { historyPayloadDecoder } from '../../src/history-payloads';
import { approvalUpdate, stateQuery, WorkflowType } from '../../src/contract';
import { SUMMARY_HEADING } from '../../src/summaries';
import type { TranscriptDelta } from '../../src/transcript-delta';
import type { AgentRunResult } from '../../src/types';
import { serializedBytes } from '../../src/validation';
import { isSummaryRequest, lastOf, reply, turnOf, type ModelRequest, type Script } from '../../testing';
import type { agentRun } from '../../workflows';
import { runCli } from '../support/cli';
import { startDevServer, stopDevServer, type DevServer } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { startTestWorker, testAddress, workerEnv } from '../support/harness';
import { activitySummaries } from '../support/history';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const processes = useWorkerProcesses();

/** A worker in this process with the helpdesk and the long-run agents, on a scripted model of its own (closed after the test). */
async function scriptedWorker(overrides: Record<string, string>, script: Script) {
  const model = await processes.startModel(script);
  const worker = await startTestWorker({
    OPENAI_BASE_URL: model.baseUrl,
    AGENT_MODEL: 'scripted-model',
    AGENT_MODULES: 'helpdesk,test/support/long-run-agent.ts',
    ...overrides,
  });
  return { worker, model };
}

/**
 * A model that, asked to read (a user message starting with "Read"), asks for `steps - 1` pages of
 * `chars` characters, one a step, then answers; anything else it answers at once.
 */
function pagingScript(steps: number, chars: number, cjk = false): Script {
  return (request) => {
    const asked = request.messages.map((message) => message.role).lastIndexOf('user');
    const step = request.messages.slice(asked).filter((message) => message.role === 'assistant').length;
    const usage = { input: 50, output: 10 };
    if (!request.messages[asked]?.content?.startsWith('Read')) return reply.text('Hello.', usage);
    return step < steps - 1
      ? reply.tools([{ id: `call_${step}`, name: 'fetch_page', args: { page: step, chars, cjk } }], usage)
      : reply.text(`Read ${step} pages.`, usage);
  };
}

/** UTF-8 bytes of everything the conversation ever contained: each message once, when first sent, and the answer. */
function conversationBytes(requests: ModelRequest[], answer: string): number {
  const seen = new Set<string>();
  let bytes = serializedBytes({ role: 'assistant', content: answer });
  for (const request of requests) {
    for (const message of request.messages) {
      const json = JSON.stringify(message);
      if (seen.has(json)) continue;
      seen.add(json);
      bytes += serializedBytes(message);
    }
  }
  return bytes;
}

/** Bytes and events of every run of the chain under `workflowId`, summed. */
async function chainHistory(
  client: Client,
  workflowId: string,
): Promise<{ bytes: number; events: number; runs: number }> {
  let bytes = 0;
  let events = 0;
  let runs = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = "${workflowId}"` })) {
    const description = await client.workflow.getHandle(workflowId, execution.runId).describe();
    bytes += description.historySize ?? 0;
    events += description.historyLength;
    runs += 1;
  }
  return { bytes, events, runs };
}

/** The requests of the run that made requests `from` onwards, one per turn (a retried request repeats its turn). */
function byTurnOf(requests: ModelRequest[]): Map<number, string[]> {
  const turns = new Map<number, string[]>();
  for (const request of requests) {
    const body = JSON.stringify({ model: request.model, messages: request.messages, tools: request.tools });
    turns.set(turnOf(request), [...(turns.get(turnOf(request)) ?? []), body]);
  }
  return turns;
}

describe('a long task run', () => {
  it('of 60 steps of 20 KB each keeps history linear, and a worker SIGKILLed mid-run changes no request', async () => {
    const steps = 60;
    const model = await processes.startModel(pagingScript(steps, 20_000));
    const keys = `A:${randomBytes(32).toString('base64')}`;
    const env = workerEnv({
      OPENAI_BASE_URL: model.baseUrl,
      AGENT_MODEL: 'scripted-model',
      AGENT_MODULES: 'test/support/long-run-agent.ts',
      PAYLOAD_KEYS: keys,
    });
    const connection = await Connection.connect({ address: testAddress() });
    const client = new Client({ connection, dataConverter: { payloadCodecs: payloadCodecs(keys) } });
    const input = { agent: 'pager', message: 'Read the document.', limits: { maxSteps: steps + 5 } };
    const start = (workflowId: string) =>
      client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
        taskQueue: env.TASK_QUEUE,
        workflowId,
        args: [input],
      });
    try {
      // The run as it goes when nothing fails.
      const steady = processes.spawn(env);
      await waitUntilPolling(steady);
      const reference = await start(`long-reference-${randomUUID()}`);
      const referenceResult = await reference.result();
      expect(referenceResult).toMatchObject({ status: 'completed', steps, output: `Read ${steps - 1} pages.` });
      const referenceRequests = model.requests.splice(0);
      const history = await chainHistory(client, reference.workflowId);
      const conversation = conversationBytes(referenceRequests, String(referenceResult.output));
      console.log(
        `${steps} steps of 20 KB: history ${history.bytes} bytes in ${history.events} events (${history.runs} run(s)) ` +
          `for ${conversation} bytes of conversation: ${(history.bytes / conversation).toFixed(2)}x`,
      );
      expect(history.bytes).toBeLessThan(3 * conversation);

      // The same run, its worker killed part way: the new worker has no cache and rebuilds from history.
      const crashed = await start(`long-crash-${randomUUID()}`);
      await eventually(() => model.requests.length >= 25, 'the run to reach step 25', 60_000);
      steady.child.kill('SIGKILL');
      expect(await steady.exited).toBe('SIGKILL');
      const replacement = processes.spawn(env);
      await waitUntilPolling(replacement);
      expect(await crashed.result()).toEqual(referenceResult);
      const expected = byTurnOf(referenceRequests);
      const seen = byTurnOf(model.requests);
      expect([...seen.keys()]).toEqual([...expected.keys()]);
      for (const [turn, bodies] of seen) {
        for (const body of bodies) expect({ turn, body }).toEqual({ turn, body: expected.get(turn)![0] });
      }
      // No call fell back to sending the transcript whole: the new worker rebuilt it from the history.
      const deltas = await transcriptInputs(client, crashed);
      expect(deltas).toHaveLength(steps);
      expect(deltas.slice(1).every((delta) => delta.base !== undefined)).toBe(true);
    } finally {
      await connection.close();
    }
  }, 240_000);

  it('of 100 steps of 19,000 CJK characters completes, its chain history under 3x its conversation', async () => {
    const steps = 100;
    const { worker, model } = await scriptedWorker(
      { TOOL_RESULT_MAX_BYTES: '65536' },
      pagingScript(steps, 19_000, true),
    );
    try {
      const handle = await worker.start({
        agent: 'pager',
        message: 'Read: 読んでください。',
        limits: { maxSteps: steps + 5 },
      });
      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', steps });
      const history = await chainHistory(worker.client, handle.workflowId);
      const conversation = conversationBytes(model.requests, String(result.output));
      console.log(
        `${steps} steps of 19,000 CJK characters: history ${history.bytes} bytes in ${history.events} events ` +
          `(${history.runs} runs) for ${conversation} bytes of conversation: ${(history.bytes / conversation).toFixed(2)}x`,
      );
      expect(conversation).toBeGreaterThan(steps * 19_000 * 2.5);
      expect(history.bytes).toBeLessThan(3 * conversation);
    } finally {
      await worker.stop();
    }
  }, 240_000);
});

/** The transcripts the run's model calls carried, decoded with the client's keys. */
async function transcriptInputs(client: Client, handle: WorkflowHandle): Promise<TranscriptDelta[]> {
  const decode = historyPayloadDecoder(client.options.loadedDataConverter);
  const { events } = await handle.fetchHistory();
  const inputs: TranscriptDelta[] = [];
  for (const event of events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled?.activityType?.name !== 'callModel') continue;
    const input = (await decode(scheduled.input!.payloads![0])) as { transcript?: TranscriptDelta };
    inputs.push(input.transcript!);
  }
  return inputs;
}

describe('on a server that suggests continue-as-new after 60 events', () => {
  let server: DevServer;
  beforeAll(async () => {
    server = await startDevServer(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=60']);
  });
  afterAll(async () => {
    if (server) await stopDevServer(server.process);
  });

  it('a task run crosses several boundaries mid-task with continuous totals; result, status and watch follow it', async () => {
    const steps = 30;
    const { worker, model } = await scriptedWorker({ TEMPORAL_ADDRESS: server.address }, pagingScript(steps, 200));
    try {
      const handle = await worker.start({ agent: 'pager', message: 'Read it all.', limits: { maxSteps: steps + 5 } });
      const result: AgentRunResult = await handle.result();
      expect(result).toMatchObject({ status: 'completed', steps, output: `Read ${steps - 1} pages.` });
      // Every call counted once, across the runs of the chain.
      expect(result.usage).toMatchObject({ inputTokens: 50 * steps, outputTokens: 10 * steps });
      expect(result.usage.byModel?.['scripted-model']?.calls).toBe(steps);
      const history = await chainHistory(worker.client, handle.workflowId);
      expect(history.runs).toBeGreaterThanOrEqual(3);
      // The model saw one unbroken conversation: each request extends the one before it.
      const requests = model.requests;
      expect(requests.map(turnOf)).toEqual(Array.from({ length: steps }, (_, turn) => turn));
      for (let index = 1; index < requests.length; index += 1) {
        expect(requests[index].messages.slice(0, requests[index - 1].messages.length)).toEqual(
          requests[index - 1].messages,
        );
      }
      const cli = { TEMPORAL_ADDRESS: server.address, TASK_QUEUE: worker.config.TASK_QUEUE };
      const status = await runCli(['status', handle.workflowId, '--json'], cli);
      expect(status.code).toBe(0);
      expect(JSON.parse(status.stdout)).toMatchObject({ status: 'completed', step: steps });
      const fetched = await runCli(['result', handle.workflowId, '--json'], cli);
      expect(JSON.parse(fetched.stdout)).toMatchObject({ status: 'completed', steps });
      const watched = await runCli(['watch', handle.workflowId], cli);
      expect(watched.code).toBe(0);
      expect(watched.stdout).toContain(`Read ${steps - 1} pages.`);
      // The export has the whole transcript and every step, from every run of the chain.
      const exported = await runCli(['export', handle.workflowId, '--format', 'jsonl'], cli);
      const lines = exported.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      expect(lines.filter((line) => line.type === 'message' && line.role === 'tool')).toHaveLength(steps - 1);
      expect(lines.at(-1)).toMatchObject({ type: 'usage', inputTokens: 50 * steps, outputTokens: 10 * steps });
      expect(lines.at(-1).steps.map((step: { step: number }) => step.step)).toEqual(
        Array.from({ length: steps }, (_, index) => index + 1),
      );
    } finally {
      await worker.stop();
    }
  }, 180_000);

  it('a task run waiting for approval continues as new when signals flood its history; the wait goes on in the continuation', async () => {
    const { worker, model } = await scriptedWorker({ TEMPORAL_ADDRESS: server.address }, (request) =>
      request.messages.at(-1)?.role === 'tool'
        ? reply.text('Refunded.')
        : reply.tools([
            { id: 'refund', name: 'issue_refund', args: { orderId: '1042', amountUsd: 20, reason: 'late' } },
          ]),
    );
    try {
      const started = await worker.start({ agent: 'helpdesk', message: 'Refund order 1042.' });
      const handle = worker.client.workflow.getHandle(started.workflowId);
      await eventually(async () => (await handle.query(stateQuery)).pendingApprovals.length === 1, 'the approval wait');
      const firstRunId = (await handle.describe()).runId;
      // A task run ignores `message` signals, but history records each one.
      for (let signal = 0; signal < 40; signal += 1) await handle.signal('message', { text: `noise ${signal}` });
      await eventually(async () => (await handle.describe()).runId !== firstRunId, 'a continuation');
      await eventually(async () => {
        const state = await handle.query(stateQuery);
        return state.status === 'awaiting_approval' && state.pendingApprovals[0]?.callId === '1.1';
      }, 'the continuation to wait for the same call');
      await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1', approve: true }] });
      expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Refunded.', steps: 2 });
      // The model was asked twice in all, and the refund ran once, approved.
      expect(model.requests).toHaveLength(2);
      expect(JSON.parse(lastOf(model.requests[1], 'tool')!.content)).toMatchObject({ orderId: '1042' });
      expect((await chainHistory(worker.client, handle.workflowId)).runs).toBeGreaterThanOrEqual(2);
    } finally {
      await worker.stop();
    }
  }, 120_000);
});

describe('a session with a 6,000-token context window', () => {
  it('summarises its oldest turns: no request passes the window and a fact from the first turn reaches the end', async () => {
    const tokensOf = (request: ModelRequest) => Math.ceil(serializedBytes(request.messages) / 4);
    const script: Script = (request) => {
      const usage = { input: tokensOf(request), output: 40 };
      if (isSummaryRequest(request)) {
        // A summariser that keeps the facts: every line of the conversation that states one.
        const facts = request.messages[1].content!.split('\n').filter((line) => /locker code|fact/i.test(line));
        return reply.text(`Notes: ${facts.map((line) => line.slice(0, 120)).join(' | ')}`, usage);
      }
      const asked = [...request.messages].reverse().find((message) => message.role === 'user')!.content;
      return reply.text(`Noted (${asked.length} characters).`, usage);
    };
    const { worker, model } = await scriptedWorker({}, script);
    try {
      const handle = await worker.start({
        agent: 'notetaker',
        mode: 'session',
        message: `Fact: my locker code is 4721. ${'Some background about my week. '.repeat(40)}`,
      });
      for (let turn = 1; turn <= 12; turn += 1) {
        await handle.executeUpdate('chat', { args: [{ text: `Turn ${turn}. ${'More about my day. '.repeat(120)}` }] });
      }
      const last = await handle.executeUpdate('chat', { args: [{ text: 'What is my locker code?' }] });
      expect(last).toMatch(/^Noted/);
      await handle.signal('end');
      const result = await handle.result();
      const requests = model.requests;
      const summaries = requests.filter(isSummaryRequest);
      expect(summaries.length).toBeGreaterThanOrEqual(1);
      for (const request of requests) expect(tokensOf(request)).toBeLessThanOrEqual(6_000);
      const final = requests.at(-1)!;
      expect(
        final.messages.some((message) => message.role === 'system' && message.content.startsWith(SUMMARY_HEADING)),
      ).toBe(true);
      expect(JSON.stringify(final.messages)).toContain('4721');
      // The first turn itself is gone from the request: only the summary carries the fact.
      expect(final.messages.some((message) => message.role === 'user' && message.content.includes('4721'))).toBe(false);
      // Summaries show in the Web UI and count in the usage (not as steps).
      expect(
        (await activitySummaries(handle)).filter((summary) => summary.startsWith('summarize · step ')),
      ).toHaveLength(summaries.length);
      expect(result.steps).toBe(14);
      expect(result.usage.byModel?.['scripted-model']?.calls).toBe(14 + summaries.length);
    } finally {
      await worker.stop();
    }
  }, 120_000);
});

describe('a run whose history passes its limit', () => {
  it('continues as new as a task; as a session turn a chat caller waits on, fails HistoryLimit instead of being terminated', async () => {
    const steps = 30;
    const { worker } = await scriptedWorker(
      { CONTINUE_AS_NEW_AT_BYTES: '100000', HISTORY_LIMIT_BYTES: '400000', TRANSCRIPT_MAX_BYTES: '60000' },
      pagingScript(steps, 20_000),
    );
    try {
      const task = await worker.start({ agent: 'pager', message: 'Read it all.', limits: { maxSteps: steps + 5 } });
      expect(await task.result()).toMatchObject({ status: 'completed', steps });
      expect((await chainHistory(worker.client, task.workflowId)).runs).toBeGreaterThanOrEqual(3);

      const session = await worker.start({ agent: 'pager', message: 'Hello.', mode: 'session' });
      const chat = session.executeUpdate('chat', { args: [{ text: 'Read it all.' }] });
      await expect(chat).rejects.toThrow();
      const failure = await session.result().then(
        () => undefined,
        (error: unknown) => error as { cause?: { type?: string; message?: string } },
      );
      expect(failure?.cause?.type).toBe('HistoryLimit');
      expect(failure?.cause?.message).toMatch(/past its limit of 400000 bytes .* a caller waits on an update/);
      const description = await session.describe();
      expect(description.historySize).toBeLessThan(600_000);
    } finally {
      await worker.stop();
    }
  }, 120_000);
});

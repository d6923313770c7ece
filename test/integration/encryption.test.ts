/**
 * Payloads encrypted at rest, end to end with real processes: runs started through the CLI leave no
 * plaintext in Temporal's history, keys rotate under a live session, a worker without a payload's key
 * says so once, fails only that task and goes on (a worker that has the key runs it), and the codec server (and through
 * it the plain `temporal` CLI) reads histories for whoever holds its token.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, type WorkflowFailedError } from '@temporalio/client';
import type { ApplicationFailure, Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AgentClient } from '../../client/agent-client';
import { payloadCodecs } from '../../codec';
import { loadTemporalConfig } from '../../src/config';
import { messageSignal, stateQuery } from '../../src/contract';
import { Patch } from '../../workflows/patch-checks';
import { byTurn, lastOf, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { temporalBinary } from '../support/dev-server';
import { runCli, type CliOutcome } from '../support/cli';
import { eventually } from '../support/eventually';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { testAddress, workerEnv } from '../support/harness';
import { spawnWorker, waitUntilPolling, type WorkerProcess } from '../support/worker-process';

const REPO = join(__dirname, '..', '..');
const execute = promisify(execFile);
const EventType = temporal.api.enums.v1.EventType;

const newKey = () => randomBytes(32).toString('base64');
const KEY_A = `A:${newKey()}`;
const KEY_B = `B:${newKey()}`;

// Distinctive texts: none of them may appear anywhere in a raw history.
const MESSAGE = 'PLATYPUS-7319: my mechanical keyboard never came, can you check?';
const ORDER_ID = '1043';
const SECRETS_OF_THE_ORDER = ['orderId', '1Z999AA10123456784', 'Alan Turing', 'Mechanical keyboard'];
const ANSWER = 'ZEBRA-4471: your keyboard was delivered on 2026-11-10.';
const CARD = '4111111111111111';

let model: ScriptedModel;
let connection: Connection;
/** A client with no codec: what anyone with access to Temporal (or its database) sees. */
let plain: Client;
const children: ChildProcess[] = [];

beforeAll(async () => {
  model = await startScriptedModel((request, index) => {
    const first = request.messages.find((message) => message.role === 'user')?.content ?? '';
    if (first.startsWith('PLATYPUS')) {
      return byTurn([reply.tools([{ name: 'lookup_order', args: { orderId: ORDER_ID } }]), reply.text(ANSWER)])(
        request,
        index,
      );
    }
    if (first.startsWith('CARD')) {
      // A card number where an order id goes (the tool's error quotes it), then an answer off the
      // Chat Completions shape that holds it.
      return request.messages.at(-1)?.role === 'user'
        ? reply.tools([{ name: 'lookup_order', args: { orderId: CARD } }])
        : reply.raw({ choices: [{ message: { content: { card: CARD } }, finish_reason: 'stop' }] });
    }
    return reply.text(`ECHO-REPLY ${lastOf(request, 'user')?.content}`);
  });
  connection = await Connection.connect({ address: testAddress() });
  plain = new Client({ connection });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map(stop));
});
afterAll(async () => {
  await connection?.close();
  await model?.close();
});

/** SIGTERM (a clean shutdown), then waits for the exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function startWorker(taskQueue: string, keys: string | undefined): Promise<WorkerProcess> {
  const worker = spawnWorker(workerEnv({ TASK_QUEUE: taskQueue, OPENAI_BASE_URL: model.baseUrl, PAYLOAD_KEYS: keys }));
  children.push(worker.child);
  await waitUntilPolling(worker);
  return worker;
}

/** The project CLI as a real process (`node --import tsx cli.ts ...`) with `keys` as PAYLOAD_KEYS. */
function cli(taskQueue: string, keys: string | undefined, ...args: string[]): Promise<CliOutcome> {
  const env = { TEMPORAL_ADDRESS: testAddress(), TASK_QUEUE: taskQueue, ...(keys && { PAYLOAD_KEYS: keys }) };
  return runCli(args, env, 60_000);
}

/**
 * A history as Temporal keeps it: its protobuf bytes, read as text. (`JSON.stringify` of the history
 * would write payload data as base64 and hide plaintext from any `toContain` check.)
 */
function rawText(history: temporal.api.history.v1.IHistory): string {
  return Buffer.from(temporal.api.history.v1.History.encode(history).finish()).toString('latin1');
}

const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

/** Every payload inside `value`, with the path it was found at. */
function payloadsIn(value: unknown, path = ''): { path: string; payload: Payload }[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  const candidate = value as Payload;
  if (candidate.metadata && typeof candidate.metadata === 'object' && candidate.data instanceof Uint8Array) {
    return [{ path, payload: candidate }];
  }
  return Object.entries(value).flatMap(([key, child]) => payloadsIn(child, `${path}.${key}`));
}

/** The data of every payload in proto3 JSON (the `temporal` CLI's `-o json`), base64-decoded. */
function payloadDataInJson(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [];
  const candidate = value as { metadata?: unknown; data?: unknown };
  if (typeof candidate.metadata === 'object' && typeof candidate.data === 'string') {
    return [Buffer.from(candidate.data, 'base64').toString('utf8')];
  }
  return Object.values(value).flatMap(payloadDataInJson);
}

const keyIdOf = (payload: Payload) =>
  text(payload.metadata?.encoding) === 'binary/encrypted' ? text(payload.metadata?.['encryption-key-id']) : undefined;

describe('a run started through the CLI with PAYLOAD_KEYS', () => {
  const taskQueue = `encrypted-${randomUUID()}`;
  let workflowId: string;
  // It stays up for the queries (`status`, the current details), which a worker answers.
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    worker = spawnWorker(workerEnv({ TASK_QUEUE: taskQueue, OPENAI_BASE_URL: model.baseUrl, PAYLOAD_KEYS: KEY_A }));
    await waitUntilPolling(worker);
    const started = await cli(taskQueue, KEY_A, '--json', 'start', 'helpdesk', MESSAGE, '--wait');
    expect(started).toMatchObject({ code: 0 });
    // With --json the run's events come a line each, the result last.
    const { workflowId: id, result } = JSON.parse(started.stdout.trim().split('\n').at(-1)!);
    expect(result).toMatchObject({ status: 'completed', output: ANSWER, steps: 2 });
    workflowId = id;
  }, 120_000);
  afterAll(async () => {
    if (worker) await stop(worker.child);
  });

  it('leaves none of the message, the tool arguments, the tool result or the answer in the raw history', async () => {
    const history = await plain.workflow.getHandle(workflowId).fetchHistory();
    const raw = rawText(history);
    for (const secret of [MESSAGE, 'PLATYPUS', ...SECRETS_OF_THE_ORDER, 'lookup_order', ANSWER, 'ZEBRA']) {
      expect(raw).not.toContain(secret);
    }
    // Every payload but the search attributes and patch markers is encrypted, with key A.
    const payloads = payloadsIn(history);
    const readable = payloads.filter(({ payload }) => keyIdOf(payload) === undefined);
    expect(payloads.length - readable.length).toBeGreaterThan(10);
    expect(new Set(payloads.map(({ payload }) => keyIdOf(payload)).filter(Boolean))).toEqual(new Set(['A']));
    // The SDK records `patched()` markers and its own data of local activity markers (sequence number,
    // attempt, activity type, times) without the codec: constants of our code, and timing. The runs of
    // this worker have every other change from their start (the spec lists them): one patch marker.
    const isPatchMarker = (path: string) => path.includes('.markerRecordedEventAttributes.details.patch-data.');
    const isLocalCallData = (path: string) => path.includes('.markerRecordedEventAttributes.details.data.');
    expect(
      readable
        .map(({ path }) => path)
        .filter(
          (path) =>
            !path.includes('.searchAttributes.indexedFields.') && !isPatchMarker(path) && !isLocalCallData(path),
        ),
    ).toEqual([]);
    const markers = readable
      .filter(({ path }) => isPatchMarker(path))
      .map(({ payload }) => JSON.parse(text(payload.data)));
    expect(markers).toEqual([{ id: Patch.localSpecResolution, deprecated: false }]);
    const localCallData = readable
      .filter(({ path }) => isLocalCallData(path))
      .map(({ payload }) => JSON.parse(text(payload.data)) as Record<string, unknown>);
    expect(localCallData.map((data) => data.activity_type)).toEqual(['resolveAgentSpec']);
    for (const data of localCallData) {
      expect(Object.keys(data).sort()).toEqual(
        ['activity_id', 'activity_type', 'attempt', 'backoff', 'complete_time', 'original_schedule_time', 'seq'].sort(),
      );
    }
    // Search attributes stay readable, for listing: the same rendering shows them in plain text.
    expect(readable.map(({ payload }) => text(payload.data))).toContain('"helpdesk"');
    expect(raw).toContain('"helpdesk"');
  });

  it('encrypts user metadata too: the summary, activity summaries and current details (static details likewise)', async () => {
    const described = await plain.workflowService.describeWorkflowExecution({
      namespace: 'default',
      execution: { workflowId },
    });
    expect(keyIdOf(described.executionConfig!.userMetadata!.summary!)).toBe('A');
    const history = await plain.workflow.getHandle(workflowId).fetchHistory();
    const summaries = history
      .events!.filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .flatMap((event) => (event.userMetadata?.summary ? [event.userMetadata.summary] : []));
    expect(summaries.length).toBeGreaterThanOrEqual(3);
    for (const summary of summaries) expect(keyIdOf(summary)).toBe('A');
    const query = await plain.workflowService.queryWorkflow({
      namespace: 'default',
      execution: { workflowId },
      query: { queryType: '__temporal_workflow_metadata' },
    });
    expect(keyIdOf(query.queryResult!.payloads![0])).toBe('A');

    // Through a client holding the key, all of it reads as written.
    const agents = await AgentClient.connect(
      loadTemporalConfig({ TEMPORAL_ADDRESS: testAddress(), PAYLOAD_KEYS: KEY_A }),
    );
    try {
      const handle = agents.client.workflow.getHandle(workflowId);
      expect(await (await handle.describe()).staticSummary()).toMatch(
        /^helpdesk: PLATYPUS-7319: my mechanical keyboard/,
      );
      const metadata = await handle.query<{ currentDetails: string }>('__temporal_workflow_metadata');
      expect(metadata.currentDetails).toBe('**completed** · step 2 · 240 tokens · $0.000054');
      const [codec] = payloadCodecs(KEY_A);
      const decodedSummaries = (await codec.decode(summaries)).map((payload) => JSON.parse(text(payload.data)));
      expect(decodedSummaries).toContain('tool lookup_order');
      expect(decodedSummaries.filter((summary) => /^model gpt-4o-mini · step \d$/.test(summary))).toHaveLength(2);

      // Static details (the project sets none) take the same road as the summary.
      const probe = await agents.client.workflow.start('agentRun', {
        taskQueue: `nobody-polls-${randomUUID()}`,
        workflowId: `details-${randomUUID()}`,
        args: [{}],
        staticSummary: 'SUMMARY-OKAPI',
        staticDetails: 'DETAILS-OKAPI',
      });
      const raw = await plain.workflowService.describeWorkflowExecution({
        namespace: 'default',
        execution: { workflowId: probe.workflowId },
      });
      expect(keyIdOf(raw.executionConfig!.userMetadata!.summary!)).toBe('A');
      expect(keyIdOf(raw.executionConfig!.userMetadata!.details!)).toBe('A');
      expect(await (await probe.describe()).staticDetails()).toBe('DETAILS-OKAPI');
      await probe.terminate('probe done');
    } finally {
      await agents.close();
    }
  });

  it('is read by the CLI holding the key, and refused in one line by a CLI without it', async () => {
    const transcript = await cli(taskQueue, KEY_A, 'watch', workflowId);
    expect(transcript.code).toBe(0);
    expect(transcript.stdout).toContain(`user: ${MESSAGE}`);
    expect(transcript.stdout).toContain(`→ lookup_order({"orderId":"${ORDER_ID}"})`);
    expect(transcript.stdout).toContain('1Z999AA10123456784');
    expect(transcript.stdout).toContain(`assistant: ${ANSWER}`);
    const result = await cli(taskQueue, KEY_A, 'result', workflowId);
    expect(result).toMatchObject({ code: 0, stdout: expect.stringContaining(ANSWER) });

    const without = await cli(taskQueue, undefined, 'status', workflowId);
    expect(without.code).toBe(1);
    expect(without.stdout).toBe('');
    expect(without.stderr.trim().split('\n')).toEqual([
      'error: a payload is encrypted with key "A", but PAYLOAD_KEYS is not set here',
    ]);
    const otherKey = await cli(taskQueue, KEY_B, 'result', workflowId);
    expect(otherKey.stderr.trim()).toBe(
      'error: a payload is encrypted with key "A", which PAYLOAD_KEYS here lacks (it holds "B")',
    );
  });

  describe('the codec server (durable-agents codec-server)', () => {
    const token = randomBytes(32).toString('hex');
    let url: string;

    beforeEach(async () => {
      const server = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', 'codec-server', '--port', '0'], {
        cwd: REPO,
        env: { PATH: process.env.PATH, PAYLOAD_KEYS: KEY_A, CODEC_SERVER_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(server);
      let output = '';
      server.stdout!.on('data', (chunk) => (output += chunk));
      server.stderr!.on('data', (chunk) => (output += chunk));
      const firstLine = await eventually(
        () => (server.exitCode === null ? /^.*\n/.exec(output)?.[0] : output),
        'its first line',
      );
      expect(firstLine).toMatch(
        /^codec-server: decoding on http:\/\/127\.0\.0\.1:\d+ for the Web UI at http:\/\/localhost:8233;/,
      );
      expect(output).not.toContain(token);
      url = /http:\/\/127\.0\.0\.1:\d+/.exec(firstLine)![0];
    }, 30_000);

    /** The workflow's input as the Web UI sends it: proto3 JSON of Payloads. */
    async function inputPayloads(): Promise<unknown> {
      const history = await plain.workflow.getHandle(workflowId).fetchHistory();
      const input = history.events![0].workflowExecutionStartedEventAttributes!.input!;
      return temporal.api.common.v1.Payloads.toObject(temporal.api.common.v1.Payloads.create(input), { bytes: String });
    }

    it('decodes a payload of that history with the token, and answers 401 without it', async () => {
      const body = JSON.stringify(await inputPayloads());
      expect(body).not.toContain('PLATYPUS');
      const decode = (headers: Record<string, string>, path = '/decode') =>
        fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

      const decoded = await decode({ authorization: `Bearer ${token}` });
      expect(decoded.status).toBe(200);
      const [payload] = temporal.api.common.v1.Payloads.fromObject((await decoded.json()) as object).payloads;
      expect(JSON.parse(text(payload.data))).toEqual({ agent: 'helpdesk', message: MESSAGE });

      const viaPath = await decode({ origin: 'http://localhost:8233' }, `/${token}/decode`);
      expect(viaPath.status).toBe(200);
      expect(viaPath.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');

      const refused = await decode({});
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain('PLATYPUS');
      expect((await decode({ authorization: 'Bearer not-the-token' })).status).toBe(401);

      const foreign = await decode({ origin: 'http://attacker.example', authorization: `Bearer ${token}` });
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
      expect(foreign.status).toBe(403);
      expect(await foreign.text()).not.toContain('PLATYPUS');
    });

    it('lets the plain temporal CLI show the history decoded (TEMPORAL_CODEC_ENDPOINT, TEMPORAL_CODEC_AUTH)', async () => {
      const show = async (env: Record<string, string>) => {
        const { stdout } = await execute(
          temporalBinary(),
          ['workflow', 'show', '--workflow-id', workflowId, '--address', testAddress(), '--output', 'json'],
          { env: { PATH: process.env.PATH!, ...env }, timeout: 30_000 },
        );
        return payloadDataInJson(JSON.parse(stdout)).join('\n');
      };
      const decoded = await show({ TEMPORAL_CODEC_ENDPOINT: url, TEMPORAL_CODEC_AUTH: `Bearer ${token}` });
      expect(decoded).toContain(MESSAGE);
      expect(decoded).toContain(ANSWER);
      expect(decoded).toContain('1Z999AA10123456784');
      expect(await show({})).not.toContain('PLATYPUS');
    });
  });
});

describe('keys that rotate', () => {
  it('keep a session started with key A going after worker and client restart with "B,A", B encrypting', async () => {
    const taskQueue = `rotation-${randomUUID()}`;
    const first = await startWorker(taskQueue, KEY_A);
    const started = await cli(taskQueue, KEY_A, 'start', 'helpdesk', 'ROTATION-ONE hello', '--session');
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    await eventually(
      async () => (await cli(taskQueue, KEY_A, 'status', id)).stdout.includes('awaiting_input'),
      'the first reply',
    );
    await stop(first.child);
    expect(await first.exited).toBe(0);

    await startWorker(taskQueue, `${KEY_B},${KEY_A}`);
    const sent = await cli(taskQueue, `${KEY_B},${KEY_A}`, 'send', id, 'ROTATION-TWO still there?');
    expect(sent).toMatchObject({ code: 0, stdout: 'ECHO-REPLY ROTATION-TWO still there?\n' });
    expect((await cli(taskQueue, `${KEY_B},${KEY_A}`, 'end', id)).code).toBe(0);
    const result = await cli(taskQueue, `${KEY_B},${KEY_A}`, '--json', 'result', id);
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: 'completed',
      output: 'ECHO-REPLY ROTATION-TWO still there?',
    });

    const history = await plain.workflow.getHandle(id).fetchHistory();
    const keyIds = payloadsIn(history)
      .map(({ payload }) => keyIdOf(payload))
      .filter(Boolean);
    expect(new Set(keyIds)).toEqual(new Set(['A', 'B']));
    // The start was written with A; what happened after the rotation, up to the result, with B.
    expect(keyIds[0]).toBe('A');
    expect(keyIds.at(-1)).toBe('B');
    expect(rawText(history)).not.toContain('ROTATION-TWO');
  }, 120_000);
});

describe('a run whose model and tool handle a card number, under PAYLOAD_KEYS', () => {
  it("keeps the number out of history, the worker's log and its spans: the failure says what was off, not what", async () => {
    const receiver = await startOtlpReceiver();
    try {
      const taskQueue = `card-${randomUUID()}`;
      const worker = spawnWorker(
        workerEnv({
          TASK_QUEUE: taskQueue,
          OPENAI_BASE_URL: model.baseUrl,
          PAYLOAD_KEYS: KEY_A,
          MODEL_MAX_ATTEMPTS: '1',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_BSP_SCHEDULE_DELAY: '100',
        }),
      );
      children.push(worker.child);
      await waitUntilPolling(worker);
      const started = await cli(taskQueue, KEY_A, 'start', 'helpdesk', 'CARD: what about my order?');
      const id = started.stdout.trim();
      const handle = clientWith(KEY_A).workflow.getHandle(id);
      const failure = await handle.result().then(
        () => undefined,
        (error: WorkflowFailedError) => error.cause as ApplicationFailure,
      );
      expect(failure?.type).toBe('ModelBadResponse');
      expect(failure?.message).toContain('choices.0.message.content was an object with 1 keys');
      const history = await plain.workflow.getHandle(id).fetchHistory();
      // The tool's error is in history (the model read it), sealed with the run's payloads.
      const toolFailed = history.events!.find((event) => event.activityTaskFailedEventAttributes);
      expect(toolFailed?.activityTaskFailedEventAttributes?.failure?.message).toBe('Encoded failure');
      expect(rawText(history)).not.toContain(CARD);
      await eventually(() => receiver.spans.some((span) => span.name === 'execute_tool lookup_order'), 'the spans');
      expect(JSON.stringify(receiver.spans)).not.toContain(CARD);
      expect(worker.output()).toContain('(choices.0.message.content was an object with 1 keys)');
      expect(worker.output()).not.toContain(CARD);
    } finally {
      await receiver.close();
    }
  }, 120_000);
});

/** A client whose codec holds `keys`. */
const clientWith = (keys: string) => new Client({ connection, dataConverter: { payloadCodecs: payloadCodecs(keys) } });

describe('a worker without the key of a payload', () => {
  /** A client whose codec holds `keys`. */
  const clientWith = (keys: string) =>
    new Client({ connection, dataConverter: { payloadCodecs: payloadCodecs(keys) } });
  const keyErrorLines = (worker: WorkerProcess) =>
    worker
      .output()
      .split('\n')
      .filter((line) => line.startsWith('worker: cannot decrypt'));

  it('stays up and says so once per run; the run completes on a worker that has the key', async () => {
    const taskQueue = `wrong-key-${randomUUID()}`;
    const started = await cli(taskQueue, KEY_A, 'start', 'helpdesk', 'WRONGKEY hello');
    const id = started.stdout.trim();

    for (const [keys, reason] of [
      [KEY_B, 'a payload is encrypted with key "A", which PAYLOAD_KEYS here lacks (it holds "B")'],
      [undefined, 'a payload is encrypted with key "A", but PAYLOAD_KEYS is not set here'],
    ] as const) {
      const worker = await startWorker(taskQueue, keys);
      await eventually(() => keyErrorLines(worker).length > 0, 'the worker to tell it cannot decrypt');
      // Retried tasks of the same run are not told again, and the worker keeps polling.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(worker.child.exitCode).toBeNull();
      expect(keyErrorLines(worker)).toEqual([
        `worker: cannot decrypt a payload of ${id}: ${reason}; its task fails and is retried ` +
          '(a worker holding the key will run it), this worker goes on',
      ]);
      await stop(worker.child);
      expect(worker.child.exitCode).toBe(0);
    }

    await startWorker(taskQueue, KEY_A);
    const result = await cli(taskQueue, KEY_A, '--json', 'result', id);
    expect(result.code).toBe(0);
    // While the keyless worker's tasks come back to the queue, `result` may say what it waits for.
    for (const line of result.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^waiting: /);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'completed', output: 'ECHO-REPLY WRONGKEY hello' });
  }, 180_000);

  it('fails the task of a run sent a message under a key nobody holds; the worker and other runs go on', async () => {
    const taskQueue = `poisoned-${randomUUID()}`;
    const worker = await startWorker(taskQueue, KEY_A);
    const withA = clientWith(KEY_A);
    const session = await withA.workflow.start('agentRun', {
      taskQueue,
      workflowId: `poisoned-${randomUUID()}`,
      args: [{ agent: 'helpdesk', message: 'first', mode: 'session' }],
    });
    await eventually(
      async () => (await session.query(stateQuery)).status === 'awaiting_input',
      'the session to answer its first message',
    );
    await clientWith(`Z:${newKey()}`).workflow.getHandle(session.workflowId).signal(messageSignal, { text: 'poison' });

    await eventually(() => keyErrorLines(worker).length > 0, 'the worker to tell it cannot decrypt');
    expect(keyErrorLines(worker)).toEqual([
      `worker: cannot decrypt a payload of ${session.workflowId}: a payload is encrypted with key "Z", which ` +
        'PAYLOAD_KEYS here lacks (it holds "A"); its task fails and is retried (a worker holding the key will run it), this worker goes on',
    ]);
    // The run's history shows the failed task and why; nothing of the run ran past the message.
    const failedTask = await eventually(async () => {
      const { events } = await plain.workflow.getHandle(session.workflowId).fetchHistory();
      return events?.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
    }, 'the failed workflow task in history');
    // Its words are sealed like every failure of a worker with keys: key A opens them.
    const failure = failedTask.workflowTaskFailedEventAttributes!.failure!;
    expect(failure.message).toBe('Encoded failure');
    const [opened] = await payloadCodecs(KEY_A)[0].decode([failure.encodedAttributes as Payload]);
    expect(JSON.parse(text(opened.data)).message).toContain('a payload is encrypted with key "Z"');

    const other = await cli(taskQueue, KEY_A, '--json', 'start', 'helpdesk', 'still here?', '--wait');
    expect(other.code).toBe(0);
    expect(JSON.parse(other.stdout.trim().split('\n').at(-1)!).result).toMatchObject({
      status: 'completed',
      output: 'ECHO-REPLY still here?',
    });
    expect(worker.child.exitCode).toBeNull();
    await session.terminate('test over');
  }, 180_000);
});

/**
 * Live output (issue #14): a model that streams its answer over HTTP, a real worker and the CLI as a
 * real process on a real terminal (a pty from `script`, its screen read by xterm's headless
 * terminal). The text reaches the person while the model writes it, a call that fails mid-answer
 * leaves none of its text on screen, `AgentClient.stream` follows a run across continue-as-new, and
 * streaming costs the run's history nothing.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Terminal } from '@xterm/headless';
import { AgentClient, type RunStreamEvent } from '../../client/agent-client';
import { loadTemporalConfig } from '../../src/config';
import { approvalUpdate } from '../../src/contract';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';
import { byTurn, lastOf, reply, startScriptedModel, type ModelRequest, type ScriptedModel } from '../../testing';

const REPO = join(__dirname, '..', '..');

/** The answer the `stream…` conversations get: 12 pieces, 150 ms apart. */
const PIECES = Array.from({ length: 12 }, (_, index) => `piece${index + 1}${index < 11 ? ' ' : ''}`);
const ANSWER = PIECES.join('');
/** What the first attempt of a `flaky…` call writes before its connection is cut. */
const DOOMED = ['DOOMED ', 'draft ', 'of ', 'an ', 'answer ', 'that ', 'runs ', 'on ', 'until ', 'never ', 'finished '];
const RECOVERED = ['The ', 'answer ', 'that ', 'made ', 'it.'];

/** A model whose endpoint refuses stream requests. */
const CANNOT_STREAM = 'no-stream-model';

const firstUserText = (request: ModelRequest) =>
  request.messages.find((message) => message.role === 'user')?.content ?? '';

let model: ScriptedModel;
let worker: TestWorker;
let unstreamed: TestWorker;
let agents: AgentClient;
/** Requests per `flaky…` conversation: the first one breaks off mid-answer. */
const flakyRequests = new Map<string, number>();

beforeAll(async () => {
  model = await startScriptedModel((request, index) => {
    const first = firstUserText(request);
    const last = lastOf(request, 'user')?.content ?? '';
    if (last.startsWith('flaky')) {
      const seen = (flakyRequests.get(last) ?? 0) + 1;
      flakyRequests.set(last, seen);
      return seen === 1
        ? reply.streamed(DOOMED, { everyMs: 200, breakAfter: 9 })
        : reply.streamed(RECOVERED, { everyMs: 100 });
    }
    if (first.startsWith('refund')) {
      return byTurn([
        reply.tools([{ name: 'issue_refund', args: { orderId: '1042', amountUsd: 129, reason: 'delayed' } }]),
        reply.streamed(['Refund ', 'issued ', 'for ', 'order ', '1042', ', ', 'to ', 'the ', 'card ', 'used.'], {
          everyMs: 100,
        }),
      ])(request, index);
    }
    if (last.startsWith('stream')) return reply.streamed(PIECES, { everyMs: 150 });
    if (first.startsWith('lookup')) {
      return byTurn([reply.tools([{ name: 'lookup_order', args: { orderId: '1042' } }]), reply.text('On its way.')])(
        request,
        index,
      );
    }
    // An endpoint that cannot stream and says so, in an error body not of OpenAI's shape (as vLLM's).
    if (request.model === CANNOT_STREAM) {
      return request.stream
        ? reply.raw({ object: 'error', message: "'stream' is not supported by this model", code: 400 }, { status: 400 })
        : reply.text('unstreamed');
    }
    return reply.text(`echo ${last}`);
  });
  // Runs continue as new at every step boundary: the stream must follow them.
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, CONTINUE_AS_NEW_AT_BYTES: '1000' });
  unstreamed = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, MODEL_STREAMING: 'false' });
  agents = await AgentClient.connect(loadTemporalConfig(env()));
});
afterAll(async () => {
  await agents?.close();
  await worker?.stop();
  await unstreamed?.stop();
  await model?.close();
});

function env(): Record<string, string> {
  return { TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS, TASK_QUEUE: worker.config.TASK_QUEUE };
}

const shellQuote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`;

/** The CLI on a terminal of 100×40: what it wrote (with when), and its exit code. */
function cliOnTerminal(args: string[], environment = env()) {
  const command = [process.execPath, '--import', 'tsx', 'cli.ts', ...args].map(shellQuote).join(' ');
  const child = spawn('script', ['-qfec', `stty cols 100 rows 40; exec ${command}`, '/dev/null'], {
    cwd: REPO,
    env: { PATH: process.env.PATH!, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: { at: number; text: string }[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push({ at: Date.now(), text: chunk.toString('utf8') }));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const output = () => chunks.map((chunk) => chunk.text).join('');
  /** When the terminal's output first contained `text`. */
  const firstSeen = (text: string) => {
    let sofar = '';
    for (const chunk of chunks) {
      sofar += chunk.text;
      if (sofar.includes(text)) return chunk.at;
    }
    return undefined;
  };
  return { output, firstSeen, exited, kill: () => child.kill('SIGTERM') };
}

/** The terminal's screen after `output`, a line per row, trailing blanks trimmed. */
async function screenOf(output: string): Promise<string> {
  const terminal = new Terminal({ cols: 100, rows: 40, allowProposedApi: true });
  await new Promise<void>((resolve) => terminal.write(output, resolve));
  const buffer = terminal.buffer.active;
  const rows = Array.from({ length: buffer.length }, (_, row) => buffer.getLine(row)?.translateToString(true) ?? '');
  terminal.dispose();
  return rows.join('\n').trimEnd();
}

const occurrences = (text: string, part: string) => text.split(part).length - 1;

async function startSession(message = 'hello'): Promise<string> {
  return agents.start({ agent: 'helpdesk', message, mode: 'session' });
}

// util-linux `script` gives the CLI a terminal; where it is missing, the printer's unit tests stand in.
const onTerminalAvailable = spawnSync('script', ['--version']).status === 0;
const onTerminal = onTerminalAvailable ? describe : describe.skip;

onTerminal('send on a terminal', () => {
  it('shows the first words while the model still writes, and the answer is the streamed text', async () => {
    const id = await startSession();
    await eventually(async () => (await agents.state(id)).status === 'awaiting_input', 'the first turn to end');
    const cli = cliOnTerminal(['send', id, 'stream please']);
    expect(await cli.exited).toBe(0);
    const firstWords = cli.firstSeen(PIECES[0]);
    const complete = cli.firstSeen(ANSWER);
    expect(firstWords).toBeDefined();
    expect(complete).toBeDefined();
    // The pieces span 1.65 s: streamed, the first shows long before the last; unstreamed, with it.
    expect(complete! - firstWords!).toBeGreaterThanOrEqual(1_000);
    const screen = await screenOf(cli.output());
    expect(occurrences(screen, ANSWER)).toBe(1);
    // What the run recorded is what was streamed.
    const { messages } = await agents.state(id);
    expect(messages.at(-1)).toEqual({ role: 'assistant', content: ANSWER });
  });

  it("erases a failed attempt's text and shows the retried answer once", async () => {
    const id = await startSession();
    await eventually(async () => (await agents.state(id)).status === 'awaiting_input', 'the first turn to end');
    const cli = cliOnTerminal(['send', id, 'flaky question']);
    expect(await cli.exited).toBe(0);
    // The failed attempt's text was shown while it streamed, so there was something to take back.
    expect(cli.firstSeen(DOOMED[0])).toBeDefined();
    const screen = await screenOf(cli.output());
    expect(screen).not.toContain('DOOMED');
    expect(screen).not.toContain('answer that runs on');
    expect(occurrences(screen, RECOVERED.join(''))).toBe(1);
    // It says it retries, and why the attempt failed.
    expect(screen).toMatch(
      /the model call failed mid-answer; retrying, attempt 2 of \d+, last error: ModelUnavailable: /,
    );
  });
});

describe('send off a terminal', () => {
  it('prints the reply alone on stdout; --json prints the events a line each, then the reply', async () => {
    const id = await startSession();
    await eventually(async () => (await agents.state(id)).status === 'awaiting_input', 'the first turn to end');
    const plain = await runCli(['send', id, 'stream plainly'], env());
    expect(plain).toMatchObject({ code: 0, stdout: `${ANSWER}\n` });

    const json = await runCli(['--json', 'send', id, 'stream as json'], env());
    expect(json.code).toBe(0);
    const lines = json.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.at(-1)).toEqual({ reply: ANSWER });
    const events = lines.slice(0, -1) as RunStreamEvent[];
    const streamed = events.flatMap((event) => (event.type === 'text' ? [event.text] : [])).join('');
    expect(streamed).toBe(ANSWER);
    // More than one piece of text: it came as it was written.
    expect(events.filter((event) => event.type === 'text').length).toBeGreaterThan(1);
    expect(events.at(-1)).toEqual({ type: 'assistant', text: ANSWER, answer: true });
  });
});

describe('AgentClient.stream', () => {
  it('sees a tool call, its approval, its result and the streamed answer in order, across continue-as-new', async () => {
    const id = await agents.start({ agent: 'helpdesk', message: 'refund order 1042' });
    const firstRunId = (await worker.client.workflow.getHandle(id).describe()).runId;
    const events: RunStreamEvent[] = [];
    for await (const event of agents.stream(id)) {
      events.push(event);
      if (event.type === 'approval') {
        await worker.client.workflow
          .getHandle(id)
          .executeUpdate(approvalUpdate, { args: [{ callId: event.callId, approve: true }] });
      }
    }
    const kinds = events.map((event) => event.type).filter((type) => type !== 'text' && type !== 'status');
    expect(kinds).toEqual(['user', 'tool_call', 'approval', 'tool_result', 'assistant', 'result']);
    expect(events).toContainEqual({
      type: 'status',
      status: 'awaiting_approval',
      pendingApprovals: [expect.objectContaining({ tool: 'issue_refund' })],
    });
    // The answer's text comes after the tool result it answers.
    const toolResultAt = events.findIndex((event) => event.type === 'tool_result');
    expect(events.findIndex((event) => event.type === 'text')).toBeGreaterThan(toolResultAt);
    const answerAt = events.findIndex((event) => event.type === 'assistant');
    const streamed = events.slice(0, answerAt).flatMap((event) => (event.type === 'text' ? [event.text] : []));
    expect(streamed.join('')).toBe('Refund issued for order 1042, to the card used.');
    const result = events.at(-1);
    expect(result).toMatchObject({
      type: 'result',
      result: { status: 'completed', output: 'Refund issued for order 1042, to the card used.' },
    });
    // The run continued as new on the way: the stream followed it.
    const first = await worker.client.workflow.getHandle(id, firstRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
  });
});

describe('a model that cannot stream', () => {
  it('is asked again unstreamed, and unstreamed from then on', async () => {
    const handles = [];
    for (const message of ['first question', 'second question']) {
      const handle = await worker.start({ agent: 'helpdesk', message, model: CANNOT_STREAM });
      expect((await handle.result()).output).toBe('unstreamed');
      handles.push(handle);
    }
    const asked = model.requests.filter((request) => request.model === CANNOT_STREAM);
    // The first call: refused as a stream, answered unstreamed in the same attempt; the second never streams.
    expect(asked.map((request) => request.stream)).toEqual([true, false, false]);
  });
});

describe('a call no worker takes', () => {
  it('is told, with how long it has waited, while the run waits for a model worker', async () => {
    // A fleet with a workflows worker only: its model calls go to a queue nobody polls.
    const runs = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, WORKER_ROLE: 'workflows' });
    const queue = { TEMPORAL_ADDRESS: runs.config.TEMPORAL_ADDRESS, TASK_QUEUE: runs.config.TASK_QUEUE };
    const waiting = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli.ts', '--json', 'start', 'helpdesk', 'hi', '--wait'],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH!, ...queue },
      },
    );
    let stdout = '';
    waiting.stdout.on('data', (chunk) => (stdout += chunk));
    const exited = new Promise((resolve) => waiting.once('exit', resolve));
    try {
      await eventually(() => stdout.includes('"type":"untaken"'), 'the stream to tell the call nobody takes', 30_000);
      const toldAt = Date.now();
      const untaken = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as RunStreamEvent)
        .find((event) => event.type === 'untaken');
      // No worker polls the model queue: told at once (within 3 s of the call's scheduling), naming it.
      expect(untaken).toMatchObject({
        call: { type: 'callModel', running: false, attempt: 1, taskQueue: `${queue.TASK_QUEUE}-model`, polled: false },
      });
      expect(toldAt - (untaken as { call: { sinceMs: number } }).call.sinceMs).toBeLessThan(3_000);
    } finally {
      waiting.kill('SIGTERM');
      await exited;
      // The run would wait for a model worker forever.
      for await (const execution of runs.client.workflow.list({ query: `TaskQueue="${runs.config.TASK_QUEUE}"` })) {
        if (execution.status.name === 'RUNNING')
          await runs.client.workflow.getHandle(execution.workflowId).terminate('test over');
      }
      await runs.stop();
    }
  });
});

describe('a tool call no tools worker takes', () => {
  it('is named with its queue and the worker to start within 3 s, on a terminal and off it, never as running', async () => {
    // A fleet without a tools worker: runs and model calls are served, the tool call waits.
    const overrides = { OPENAI_BASE_URL: model.baseUrl, TASK_QUEUE: `no-tools-${process.pid}-${Date.now()}` };
    const runs = await startTestWorker({ ...overrides, WORKER_ROLE: 'workflows' });
    const models = await startTestWorker({ ...overrides, WORKER_ROLE: 'model' });
    const fleet = { TEMPORAL_ADDRESS: runs.config.TEMPORAL_ADDRESS, TASK_QUEUE: runs.config.TASK_QUEUE };
    const toolsQueue = `${fleet.TASK_QUEUE}-tools`;
    const says = `tool lookup_order waiting for a tools worker on ${toolsQueue} — TOOL_TASK_QUEUE=${toolsQueue} WORKER_ROLE=tools npm run worker`;
    /** When the run's tool call was scheduled, by the server's clock. */
    const scheduledAt = async (id: string) => {
      const pending = await eventually(
        async () => (await runs.client.workflow.getHandle(id).describe()).raw.pendingActivities?.[0],
        'the tool call to be scheduled',
      );
      const { seconds, nanos } = pending.scheduledTime!;
      return Number(seconds) * 1_000 + Math.floor((nanos ?? 0) / 1e6);
    };
    const offTerminal = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli.ts', 'start', 'helpdesk', 'lookup 1042', '--wait'],
      {
        cwd: REPO,
        env: { PATH: process.env.PATH!, ...fleet },
      },
    );
    let stdout = '';
    let stderr = '';
    let namedAt: number | undefined;
    offTerminal.stdout.on('data', (chunk) => (stdout += chunk));
    offTerminal.stderr.on('data', (chunk) => {
      stderr += chunk;
      if (stderr.includes(says)) namedAt ??= Date.now();
    });
    const offExited = new Promise((resolve) => offTerminal.once('exit', resolve));
    const onTerminal = onTerminalAvailable
      ? cliOnTerminal(['start', 'helpdesk', 'lookup 1043', '--wait'], fleet)
      : undefined;
    try {
      // The run id is the first line, printed at once.
      const offId = await eventually(() => (stdout.includes('\n') ? stdout.split('\n')[0] : undefined), 'the run id');
      await eventually(() => namedAt, 'the live line to name the tools queue', 30_000);
      expect(namedAt! - (await scheduledAt(offId))).toBeLessThan(3_000);
      // One line a change off a terminal: the step, the call, what it waits for; never `running`.
      expect(stderr.split('\n')).toContain(`step 1 · ${says}`);
      expect(stderr).not.toMatch(/running/);
      if (onTerminal) {
        await eventually(() => onTerminal.firstSeen(toolsQueue), 'the terminal to name the tools queue', 30_000);
        const onId = /^([\w-]+)\r?$/m.exec(onTerminal.output())![1];
        expect(onTerminal.firstSeen(toolsQueue)! - (await scheduledAt(onId))).toBeLessThan(3_000);
        // The line as the terminal wraps it at 100 columns, rows joined again.
        const screen = (await screenOf(onTerminal.output())).replaceAll('\n', '');
        expect(screen).toMatch(
          new RegExp(
            `\\(tool lookup_order waiting \\d+\\.\\d s for a tools worker on ${toolsQueue} — TOOL_TASK_QUEUE=`,
          ),
        );
        expect(screen).not.toMatch(/running/);
      }
    } finally {
      offTerminal.kill('SIGTERM');
      onTerminal?.kill();
      await offExited;
      await onTerminal?.exited;
      for await (const execution of runs.client.workflow.list({ query: `TaskQueue="${fleet.TASK_QUEUE}"` })) {
        if (execution.status.name === 'RUNNING') {
          await runs.client.workflow.getHandle(execution.workflowId).terminate('test over');
        }
      }
      await runs.stop();
      await models.stop();
    }
  });
});

describe('history', () => {
  /** The bytes of a run's history (every run of its chain). */
  async function historyBytes(client: TestWorker['client'], workflowId: string): Promise<number> {
    let bytes = 0;
    let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
    while (runId) {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      bytes += JSON.stringify(history).length;
      runId = history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    }
    return bytes;
  }

  it('of a streamed run is within 10% of the same run unstreamed', async () => {
    const streamed = await worker.start({ agent: 'helpdesk', message: 'stream for history' });
    const plain = await unstreamed.start({ agent: 'helpdesk', message: 'stream for history' });
    expect((await streamed.result()).output).toBe(ANSWER);
    expect((await plain.result()).output).toBe(ANSWER);
    // Both were asked the same way but one way: the streamed worker asked for a stream.
    const asked = model.requests.filter((request) => lastOf(request, 'user')?.content === 'stream for history');
    expect(asked.map((request) => request.stream).sort()).toEqual([false, true]);
    const streamedBytes = await historyBytes(worker.client, streamed.workflowId);
    const plainBytes = await historyBytes(unstreamed.client, plain.workflowId);
    expect(Math.abs(streamedBytes - plainBytes) / plainBytes).toBeLessThan(0.1);
  });
});

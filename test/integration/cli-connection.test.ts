/**
 * The CLI and what it connects to, as real processes against the test server: where Temporal is
 * (flags and their env twins, a refused connection), the version and help, commands that wait for a
 * worker that is not there, and runs whose worker has gone.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentClient, type WaitNotice } from '../../client/agent-client';
import { stateQuery } from '../../src/contract';
import { loadTemporalConfig } from '../../src/config';
import { cliScript, expectOneLineError, runCli } from '../support/cli';
import { freePort } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { startTestWorker, tempPath, testAddress, type TestWorker } from '../support/harness';
import { startScriptedModel, type ScriptedModel } from '../../testing';

const REPO = join(__dirname, '..', '..');
const VERSION = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version;

let model: ScriptedModel;
const workers: TestWorker[] = [];

beforeAll(async () => {
  model = await startScriptedModel(cliScript);
});
afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.stop()));
  await model?.close();
});

/** A worker on `taskQueue`, stopped after the file's tests (or by the test). */
async function startWorker(taskQueue: string): Promise<TestWorker> {
  // An unknown agent's run fails at once here; test/integration/mixed-fleet.test.ts has the wait.
  const worker = await startTestWorker({
    OPENAI_BASE_URL: model.baseUrl,
    TASK_QUEUE: taskQueue,
    UNKNOWN_AGENT_WAIT_SECONDS: '0',
  });
  workers.push(worker);
  return worker;
}

async function stopWorker(worker: TestWorker): Promise<void> {
  workers.splice(workers.indexOf(worker), 1);
  await worker.stop();
}

const freshQueue = () => `test-${randomUUID()}`;
const env = (overrides: Record<string, string> = {}) => ({ TEMPORAL_ADDRESS: testAddress(), ...overrides });

/** Runs the CLI to its end and also measures how long the process took. */
async function timedCli(args: string[], environment: Record<string, string>) {
  const started = Date.now();
  const outcome = await runCli(args, environment);
  return { ...outcome, ms: Date.now() - started };
}

interface LiveCli {
  stdout(): string;
  stderr(): string;
  /** When (ms after the spawn) the first stderr line matching `pattern` appeared. */
  lineAt(pattern: RegExp, what: string): Promise<number>;
  exited: Promise<number | null>;
}

/** The CLI as a process that keeps running: its output as it comes. */
function spawnCli(args: string[], environment: Record<string, string>): LiveCli {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH!, ...environment },
  });
  let stdout = '';
  let stderr = '';
  const seen: { line: string; at: number }[] = [];
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    const at = Date.now() - started;
    for (const line of String(chunk).split('\n').filter(Boolean)) seen.push({ line, at });
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    lineAt: async (pattern, what) => (await eventually(() => seen.find(({ line }) => pattern.test(line)), what)).at,
    exited,
  };
}

describe('where the CLI connects', () => {
  it('prints the package version', async () => {
    expect(await runCli(['--version'], {})).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    expect((await runCli(['-V'], {})).stdout).toBe(`${VERSION}\n`);
  });

  it('shows examples, the connection flags and their env variables in the help', async () => {
    const help = await runCli(['--help'], {});
    expect(help.code).toBe(0);
    for (const text of ['--address <host:port>', '--namespace <name>', '--profile <name>', '--version']) {
      expect(help.stdout).toContain(text);
    }
    expect(help.stdout).toMatch(/Examples:\n {2}\$ durable-agents start helpdesk/);
    expect(help.stdout).toMatch(/Environment \(a flag wins over its variable\):\n {2}TEMPORAL_ADDRESS /);
    for (const name of ['TEMPORAL_NAMESPACE', 'TEMPORAL_PROFILE', 'TEMPORAL_API_KEY', 'TASK_QUEUE', 'PAYLOAD_KEYS']) {
      expect(help.stdout).toContain(`  ${name} `);
    }
  });

  it('answers a usage error with its line first, then the help of that command, and exit code 2', async () => {
    const missing = await runCli(['start', 'helpdesk'], {});
    expect(missing.code).toBe(2);
    expect(missing.stdout).toBe('');
    const [first, ...rest] = missing.stderr.split('\n');
    expect(first).toBe("error: missing required argument 'message'");
    expect(rest.join('\n')).toContain('Usage: durable-agents start [options] <agent> <message>');
  });

  it('fails at once on a refused connection, with the cause and what to do', async () => {
    const port = await freePort();
    // Side by side, so that both start up on equally busy cores.
    const [baseline, refused] = await Promise.all([
      timedCli(['--version'], {}),
      timedCli(['status', 'any'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }),
    ]);
    expectOneLineError(
      refused,
      1,
      new RegExp(
        `^error: cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(TEMPORAL_ADDRESS\\): connection refused \\(start a dev server: \\./temporal-dev\\.sh start\\)$`,
      ),
    );
    // The process starts as slowly as `--version` does; the connection adds at most a second.
    expect(refused.ms).toBeLessThan(baseline.ms + 1_000);

    // In the client itself: the refusal is the answer, with no retries until a deadline.
    const started = Date.now();
    const error = await AgentClient.connect(loadTemporalConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${port}` })).catch(
      (thrown: Error) => thrown,
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('connection refused') });

    expectOneLineError(
      await runCli(['list', '--address', 'no-such-host.invalid:7233'], {}),
      1,
      /^error: cannot reach Temporal at no-such-host\.invalid:7233 \(--address\): host not found \(check --address, --profile or TEMPORAL_ADDRESS\)$/,
    );
  });

  it('takes --address, --namespace and --profile, before or after the command, over their env twins', async () => {
    const port = await freePort();
    const unreachable = { TEMPORAL_ADDRESS: `127.0.0.1:${port}` };
    // --address wins over TEMPORAL_ADDRESS, in either place.
    expect(await runCli(['--address', testAddress(), 'list', '--user', 'nobody-at-all'], unreachable)).toMatchObject({
      code: 0,
      stdout: 'no runs\n',
    });
    expect(await runCli(['list', '--user', 'nobody-at-all', '--address', testAddress()], unreachable)).toMatchObject({
      code: 0,
      stdout: 'no runs\n',
    });
    // --namespace wins over TEMPORAL_NAMESPACE, and a namespace that is not there is named.
    expect(
      (await runCli(['list', '--user', 'nobody-at-all', '--namespace', 'default'], env({ TEMPORAL_NAMESPACE: 'nope' })))
        .code,
    ).toBe(0);
    expectOneLineError(
      await runCli(['status', 'any', '--namespace', 'nope'], env()),
      1,
      new RegExp(
        `^error: no namespace "nope" on Temporal at ${testAddress()} \\(check --namespace, --profile or TEMPORAL_NAMESPACE\\)$`,
      ),
    );
    // --profile wins over TEMPORAL_PROFILE; the profile's address then applies.
    const config = tempPath('temporal.toml');
    writeFileSync(
      config,
      [`[profile.test]`, `address = "${testAddress()}"`, '[profile.away]', `address = "127.0.0.1:${port}"`].join('\n'),
    );
    const profiles = { TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'away' };
    expectOneLineError(
      await runCli(['list'], profiles),
      1,
      new RegExp(`^error: cannot reach Temporal at 127\\.0\\.0\\.1:${port} \\(profile "away"\\): connection refused`),
    );
    expect(await runCli(['list', '--user', 'nobody-at-all', '--profile', 'test'], profiles)).toMatchObject({
      code: 0,
      stdout: 'no runs\n',
    });
    expectOneLineError(
      await runCli(['list', '--profile', 'staging'], profiles),
      1,
      /^error: Temporal connection settings: .*staging/,
    );
  });
});

describe('commands that wait', () => {
  it('tell, within 2 s, that no worker polls the task queue, and answer once one does', async () => {
    const taskQueue = freshQueue();
    const queue = env({ TASK_QUEUE: taskQueue });
    const noWorker = new RegExp(
      `^waiting: no worker is polling task queue "${taskQueue}" \\(start one: TASK_QUEUE=${taskQueue} npm run worker\\)$`,
    );

    // In the client: the first notice comes within 2 s of the call.
    const agents = await AgentClient.connect(loadTemporalConfig(queue));
    const quick = await agents.start({ agent: 'helpdesk', message: 'quick question' });
    const notices: { notice: WaitNotice; at: number }[] = [];
    const calledAt = Date.now();
    const waited = agents.result(quick, { onWait: (notice) => notices.push({ notice, at: Date.now() - calledAt }) });

    // Started alongside the waiting commands: how long starting up takes on cores this busy.
    const startup = timedCli(['--version'], {});
    const result = spawnCli(['result', quick], queue);
    const refund = spawnCli(['start', 'helpdesk', 'refund order 1042', '--wait'], queue);
    const session = (await runCli(['start', 'helpdesk', 'hello', '--session'], queue)).stdout.trim();
    const send = spawnCli(['send', session, 'second message'], queue);

    const seen = await Promise.all([result, refund, send].map((cli) => cli.lineAt(noWorker, 'the no-worker line')));
    await eventually(() => notices.length, 'the no-worker notice');
    expect(notices[0].notice).toEqual({ type: 'no_worker', taskQueue, missing: ['workflow', 'activity'] });
    expect(notices[0].at).toBeLessThan(2_000);
    // Each process says so within 2 s of starting up.
    const startupMs = (await startup).ms;
    for (const at of seen) expect(at).toBeLessThan(startupMs + 2_000);

    await startWorker(taskQueue);
    expect(await result.exited).toBe(0);
    expect(result.stdout()).toMatch(/^echo quick question \(turn 0\)\n\nstatus: completed/);
    expect(await waited).toMatchObject({ status: 'completed', output: 'echo quick question (turn 0)' });
    // The run may end before a check sees the worker: then nothing more is told.
    expect(['no_worker', 'no_worker,worker_found']).toContain(notices.map(({ notice }) => notice.type).join());

    expect(await send.exited).toBe(0);
    expect(send.stdout()).toBe('echo second message (turn 1)\n');

    // A run that waits for a person says so on stderr, with the command that decides.
    const id = await eventually(() => refund.stdout().split('\n')[0], 'the run id');
    await refund.lineAt(
      new RegExp(`^awaiting approval 1\\.1 issue_refund — durable-agents approve ${id} 1\\.1$`),
      'the approval line',
    );
    expect(await runCli(['approve', id, '1.1'], queue)).toMatchObject({ code: 0 });
    expect(await refund.exited).toBe(0);
    expect(refund.stdout()).toMatch(new RegExp(`^${id}\\nRefund handled\\.\\n\\nstatus: completed`));
    // Stdout holds only the answer; every notice went to stderr, one line each (among live lines, `step N · ...`).
    expect(
      refund
        .stderr()
        .split('\n')
        .filter((line) => line && !/^step \d+ · /.test(line)),
    ).toEqual([
      expect.stringMatching(noWorker),
      `waiting: a worker is polling task queue "${taskQueue}" now`,
      `awaiting approval 1.1 issue_refund — durable-agents approve ${id} 1.1`,
    ]);
    await runCli(['end', session], queue);
    await agents.close();
  });
});

describe('runs whose worker has gone', () => {
  it('status and watch read a closed run from history, and a failed one says why with exit code 1', async () => {
    const taskQueue = freshQueue();
    const queue = env({ TASK_QUEUE: taskQueue });
    const worker = await startWorker(taskQueue);
    const completed = (
      await runCli(['start', 'helpdesk', 'quick question', '--user', 'ada', '--wait'], queue)
    ).stdout.split('\n')[0];
    const failed = (await runCli(['start', 'no-such-agent', 'hi'], queue)).stdout.trim();
    const terminated = (await runCli(['start', 'helpdesk', 'refund order 1042'], queue)).stdout.trim();
    await eventually(
      async () => (await worker.client.workflow.getHandle(terminated).query(stateQuery)).pendingApprovals.length,
      'the approval',
    );
    await worker.client.workflow.getHandle(terminated).terminate('operator cleanup');
    await eventually(
      async () => (await worker.client.workflow.getHandle(failed).describe()).status.name === 'FAILED',
      'the run to fail',
    );
    await stopWorker(worker);
    // A run still open, on the same task queue: only what it last recorded can be shown.
    const open = (await runCli(['start', 'helpdesk', 'hello', '--user', 'bo'], queue)).stdout.trim();

    const status = await timedCli(['status', completed], queue);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(
      /^status: completed\nagent: helpdesk, user ada\nsteps: 1\nusage: 120 tokens \(100 in, 20 out\), \$[\d.]+\nclosed: \d{4}-\d\d-\d\dT/,
    );
    // No query that waits half a minute for a worker.
    expect(status.ms).toBeLessThan(10_000);
    expect(JSON.parse((await runCli(['status', completed, '--json'], queue)).stdout)).toMatchObject({
      workflowId: completed,
      status: 'completed',
      closed: true,
      result: { status: 'completed', output: 'echo quick question (turn 0)', steps: 1 },
    });

    const failedStatus = await runCli(['status', failed], queue);
    expect(failedStatus.code).toBe(1);
    expect(failedStatus.stdout).toMatch(/^status: failed\nagent: no-such-agent\nsteps: 0\n/);
    expect(failedStatus.stderr).toBe(
      `error: run ${failed} failed with UnknownAgent: unknown agent "no-such-agent"; known agents: helpdesk\n`,
    );
    expect(JSON.parse((await runCli(['--json', 'status', failed], queue)).stdout)).toMatchObject({
      status: 'failed',
      closed: true,
      failure: { type: 'UnknownAgent', message: 'unknown agent "no-such-agent"; known agents: helpdesk' },
    });

    const watched = await runCli(['watch', failed], queue);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toBe('[failed]\n');
    expect(watched.stderr).toBe(failedStatus.stderr);

    // With no worker to ask, what the run said is read from its history, then how it ended.
    const watchedTerminated = await runCli(['watch', terminated], queue);
    expect(watchedTerminated).toEqual({
      code: 1,
      stdout:
        'user: refund order 1042\n' +
        '  → issue_refund({"orderId":"1042","amountUsd":129,"reason":"delayed"})\n' +
        '[terminated]\n',
      stderr: `error: run ${terminated} was terminated: operator cleanup\n`,
    });
    const terminatedStatus = await runCli(['status', terminated], queue);
    expect(terminatedStatus.code).toBe(1);
    expect(terminatedStatus.stdout).toMatch(/^status: terminated\n/);

    const openStatus = await timedCli(['status', open], queue);
    // The whole outcome, so a failure shows what the CLI said.
    expect(openStatus).toMatchObject({ code: 0 });
    expect(openStatus.stdout).toMatch(/^status: starting\nagent: helpdesk, user bo\nsteps: 0\n/);
    // The server lists a stopped worker for a minute or more: either it is not listed, or it did not answer.
    expect(openStatus.stderr).toMatch(
      new RegExp(
        `^note: no worker (is polling task queue|answered the run on task queue) "${taskQueue}": ` +
          `this is what the run last recorded \\(start one: TASK_QUEUE=${taskQueue} npm run worker\\)\n$`,
      ),
    );
    expect(openStatus.ms).toBeLessThan(10_000);
    await runCli(['cancel', open], queue);
    // Fourteen CLI processes, each a tsx start: past a minute on a loaded 2-core machine.
  }, 150_000);
});

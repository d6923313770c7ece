/**
 * What a person sees while a run works (issue #12, "No silent waits" and "Transcript and cost where
 * people look"), through the CLI as a real process against a real worker: the live line of a waiting
 * command (a call being retried, an approval), `status` with the failing call's attempt and last
 * error and each step's usage, and the static summary and details a run starts with.
 */
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AgentClient } from '../../client/agent-client';
import { liveLine } from '../../cli/live-line';
import { loadTemporalConfig } from '../../src/config';
import { cliScript, runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';
import { reply, startScriptedModel, type ScriptedModel } from '../../testing';

const REPO = join(__dirname, '..', '..');

let model: ScriptedModel;
let worker: TestWorker;
/** While set, the model answers `flaky…` conversations with a 500. */
let failing = true;

beforeAll(async () => {
  model = await startScriptedModel((request, index) => {
    const first = request.messages.find((message) => message.role === 'user')?.content ?? '';
    if (!first.startsWith('flaky')) return cliScript(request, index);
    return failing ? reply.error(500, 'upstream is down') : reply.text('recovered');
  });
  // More attempts than the test needs: the run must not fail while the test looks at it.
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, MODEL_MAX_ATTEMPTS: '8' });
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

const env = () => ({ TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS, TASK_QUEUE: worker.config.TASK_QUEUE });
const cli = (args: string[]) => runCli(args, env());

/** The CLI as a process that keeps running: its output as it comes, and its exit code. */
function spawnCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH!, ...env() },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { stdout: () => stdout, stderr: () => stderr, lines: () => stderr.split('\n').filter(Boolean), exited };
}

const failingLine = (attempt: string) =>
  new RegExp(
    `^step 1 · model call failing: attempt ${attempt} of 8, last error: ModelUnavailable: model endpoint answered 500: upstream is down$`,
  );

describe('the live line of a waiting command', () => {
  it('shows a model call being retried, attempt by attempt, with its last error; status shows it too', async () => {
    failing = true;
    const id = (await cli(['start', 'helpdesk', 'flaky question'])).stdout.trim();
    const text = spawnCli(['result', id]);
    const json = spawnCli(['--json', 'result', id]);

    // Off a terminal, a line each time it changes: each new attempt.
    const attempts = await eventually(() => {
      const seen = text.lines().filter((line) => failingLine('\\d').test(line));
      return seen.length >= 2 ? seen : undefined;
    }, 'two attempts on the live line');
    const numbers = attempts.map((line) => Number(/attempt (\d)/.exec(line)![1]));
    expect(numbers[1]).toBeGreaterThan(numbers[0]);

    const status = await cli(['status', id]);
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(
      /\ncalls in flight:\n {2}model gpt-4o-mini · step 1: attempt [2-8] of 8, last error: ModelUnavailable: model endpoint answered 500: upstream is down\n/,
    );
    const report = JSON.parse((await cli(['--json', 'status', id])).stdout);
    expect(report).toMatchObject({
      status: 'running',
      callsInFlight: [
        {
          type: 'callModel',
          summary: 'model gpt-4o-mini · step 1',
          maximumAttempts: 8,
          lastFailure: { type: 'ModelUnavailable', message: 'model endpoint answered 500: upstream is down' },
        },
      ],
    });
    expect(report.callsInFlight[0].attempt).toBeGreaterThanOrEqual(numbers[1]);

    failing = false;
    expect(await text.exited).toBe(0);
    expect(text.stdout()).toMatch(/^recovered\n\nstatus: completed · steps: 1/);
    // Every line on stderr is the live line: one per attempt seen, each once.
    for (const line of text.lines()) expect(line).toMatch(failingLine('\\d'));
    expect(new Set(text.lines()).size).toBe(text.lines().length);

    // With --json off a terminal, stdout is one JSON document and stderr is left to what the run waits for.
    expect(await json.exited).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ status: 'completed', output: 'recovered', steps: 1 });
    expect(json.stderr()).toBe('');
  }, 90_000);

  it('shows a run waiting for approval with the command that gives it; status shows each step used', async () => {
    const waited = spawnCli(['start', 'helpdesk', 'refund order 1042', '--wait']);
    const id = await eventually(() => waited.stdout().split('\n')[0], 'the run id');
    const approval = `awaiting approval 1.1 issue_refund — durable-agents approve ${id} 1.1`;
    await eventually(() => waited.lines().includes(approval), 'the approval line');

    // The client's own live line says the same, from describe and the state query.
    const agents = await AgentClient.connect(loadTemporalConfig(env()));
    const seen: (string | undefined)[] = [];
    const waiting = agents.result(id, {
      onLive: (description, state) => seen.push(liveLine(description, state, Date.now())),
    });
    await eventually(() => seen.includes(approval), "the client's live line");

    const status = await cli(['status', id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/\npending approvals:\n {2}1\.1 {2}issue_refund /);
    expect(status.stdout).toMatch(
      /\nusage by step:\n {2}STEP +MODEL +IN +OUT +COST +LATENCY\n {2}1 +gpt-4o-mini +100 +20 +\$\d\.\d{6} +\d+\.\d\d s\n {2}total +100 +20 /,
    );
    expect(JSON.parse((await cli(['--json', 'status', id])).stdout)).toMatchObject({
      status: 'awaiting_approval',
      stepUsage: [{ step: 1, model: 'gpt-4o-mini', inputTokens: 100, outputTokens: 20 }],
    });

    expect(await cli(['approve', id, '1.1'])).toMatchObject({ code: 0 });
    expect(await waited.exited).toBe(0);
    await waiting;
    await agents.close();
    expect(waited.stdout()).toMatch(new RegExp(`^${id}\\nRefund handled\\.\\n\\nstatus: completed`));
    // The notice and the live line say the approval once between them.
    expect(waited.lines().filter((line) => line === approval)).toHaveLength(1);

    // `watch` of the finished run ends with what each step used.
    const watched = await cli(['watch', id]);
    expect(watched.stdout).toMatch(/\n\[completed\]\nusage by step:\n {2}STEP .*\n {2}1 .*\n {2}2 .*\n {2}total .*\n$/);
  });

  // util-linux `script` gives the CLI a terminal; where it is missing, the printer's unit tests stand in.
  const hasScript = spawnSync('script', ['--version']).status === 0;
  (hasScript ? it : it.skip)(
    'on a terminal, rewrites one line in place and clears it before the answer',
    async () => {
      failing = true;
      const id = (await cli(['start', 'helpdesk', 'flaky on a terminal'])).stdout.trim();
      const command = [process.execPath, '--import', 'tsx', 'cli.ts', 'result', id]
        .map((word) => `'${word}'`)
        .join(' ');
      const child = spawn('script', ['-qefc', command, '/dev/null'], {
        cwd: REPO,
        env: { PATH: process.env.PATH!, ...env() },
      });
      let output = '';
      child.stdout.on('data', (chunk) => (output += chunk));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      const CLEAR_LINE = '\r\x1b[2K';
      await eventually(
        // From its start: a line wider than the terminal is cut.
        () => output.split(CLEAR_LINE).some((drawn) => drawn.startsWith('step 1 · model call failing: attempt ')),
        'the live line, drawn in place',
      );
      failing = false;
      expect(await exited).toBe(0);
      // Never a line of its own: the live line is cleared, and the answer starts where it was.
      expect(output).not.toMatch(/failing: [^\r]*\n/);
      expect(output).toContain(`${CLEAR_LINE}recovered`);
      expect(output).toMatch(/recovered\r?\n\r?\nstatus: completed/);
    },
    90_000,
  );
});

describe('what a run says about itself from its start', () => {
  it('sets a static summary and details (first message, agent, model, mode, user, limits), read back by describe', async () => {
    const id = `details-${Date.now()}`;
    const started = await cli([
      'start',
      'helpdesk',
      'hello there, where is order 1042?',
      '--session',
      '--user',
      'ada',
      '--model',
      'gpt-4o-mini',
      '--max-steps',
      '5',
      '--id',
      id,
    ]);
    expect(started.code).toBe(0);
    const description = await worker.client.workflow.getHandle(id).describe();
    expect(await description.staticSummary()).toBe('helpdesk: hello there, where is order 1042?');
    expect(await description.staticDetails()).toBe(
      [
        '**First message**',
        '',
        '```',
        'hello there, where is order 1042?',
        '```',
        '',
        '- agent: `helpdesk`',
        '- model: `gpt-4o-mini`',
        '- mode: session',
        '- user: `ada`',
        '- limits: maxSteps 5',
      ].join('\n'),
    );
    await cli(['end', id]);
  });
});

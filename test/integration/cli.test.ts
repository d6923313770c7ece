import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentClient } from '../../client/agent-client';
import { loadTemporalConfig } from '../../src/config';
import { searchAttributes, stateQuery, WorkflowType } from '../../src/contract';
import type { AgentRunInput } from '../../src/input';
import { terminalSafe } from '../../src/terminal-text';
import { cliScript, expectOneLineError, runCli, type CliOutcome } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort } from '../support/dev-server';
import { workflowInput } from '../support/history';
import { startTestWorker, type TestWorker } from '../support/harness';
import { lastOf, startScriptedModel, type ScriptedModel } from '../../testing';

const REPO = join(__dirname, '..', '..');
const run = promisify(execFile);

let model: ScriptedModel;
let worker: TestWorker;

beforeAll(async () => {
  model = await startScriptedModel(cliScript);
  // An unknown agent's run fails at once here; test/integration/mixed-fleet.test.ts has the wait.
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, UNKNOWN_AGENT_WAIT_SECONDS: '0' });
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

const cliArgs = (args: string[]) => ['--import', 'tsx', 'cli.ts', ...args];
const cliEnv = (env: Record<string, string> = {}) => ({
  PATH: process.env.PATH!,
  TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS,
  TASK_QUEUE: worker.config.TASK_QUEUE,
  ...env,
});

/** Runs the CLI as a real process against the test server and the worker's task queue. */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, cliEnv(env));

/** A usage error: its one line first, then the help of the command it was meant for, and exit code 2. */
function expectUsageError(outcome: CliOutcome, message: RegExp, usage: string): void {
  expect(outcome.code).toBe(2);
  expect(outcome.stdout).toBe('');
  const [first, ...help] = outcome.stderr.split('\n');
  expect(first).toMatch(message);
  expect(help.join('\n')).toContain(`Usage: ${usage}`);
}

describe('the durable-agents CLI', () => {
  it('starts a session, sends messages, shows status, ends it and prints the result', async () => {
    const started = await cli([
      'start',
      'helpdesk',
      'hello there',
      '--session',
      '--user',
      'grace',
      '--id',
      `cli-session-${Date.now()}`,
    ]);
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    expect(id).toMatch(/^cli-session-\d+$/);

    const sent = await cli(['send', id, 'second message']);
    expect(sent).toMatchObject({ code: 0, stdout: 'echo second message (turn 1)\n' });

    expect(
      await worker.client.workflow
        .getHandle(id)
        .describe()
        .then((d) => d.staticSummary()),
    ).toBe('helpdesk: hello there');

    const status = await cli(['status', id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^status: awaiting_input\nagent: helpdesk \(session\), user grace\nsteps: 2\nusage: 240 tokens/,
    );

    // Keyed as `start --json` and `list --json` key a run.
    const json = JSON.parse((await cli(['--json', 'status', id])).stdout);
    expect(json).toMatchObject({
      workflowId: id,
      status: 'awaiting_input',
      agent: 'helpdesk',
      userId: 'grace',
      step: 2,
    });

    // The id of a run that is open names that run, and how to talk to it: no second run starts.
    expectOneLineError(
      await cli(['start', 'helpdesk', 'again', '--id', id]),
      1,
      new RegExp(
        `^error: run ${id} is already running: durable-agents send ${id} "\\.\\.\\." talks to it \\(a session\\), ` +
          `durable-agents status ${id} shows it$`,
      ),
    );

    expect(await cli(['end', id])).toMatchObject({ code: 0, stdout: 'ending\n' });
    const result = await cli(['result', id]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^echo second message \(turn 1\)\n\nstatus: completed · steps: 2 · 240 tokens/);
    expect(JSON.parse((await cli(['result', id, '--json'])).stdout)).toMatchObject({ status: 'completed', steps: 2 });
  });

  it('approves a held tool call, and watch follows the run to its end', async () => {
    const id = (await cli(['start', 'helpdesk', 'refund order 1042'])).stdout.trim();
    await eventually(
      async () => (await worker.client.workflow.getHandle(id).query(stateQuery)).pendingApprovals.length,
      'the approval',
    );
    const status = await cli(['status', id]);
    expect(status.stdout).toMatch(
      /status: awaiting_approval[\s\S]*pending approvals:\n {2}1\.1 {2}issue_refund \{"orderId":"1042","amountUsd":129,"reason":"delayed"\}/,
    );
    // With the command that gives it, as `result` says it.
    expect(status.stdout).toContain(
      `  1.1  issue_refund {"orderId":"1042","amountUsd":129,"reason":"delayed"} — durable-agents approve ${id} 1.1\n`,
    );

    const watching = spawn(process.execPath, cliArgs(['watch', id]), { cwd: REPO, env: cliEnv() });
    let stdout = '';
    watching.stdout.on('data', (chunk) => (stdout += chunk));
    const exitCode = new Promise((resolve) => watching.once('exit', resolve));
    await eventually(
      () => stdout.includes('[awaiting_approval: 1.1 issue_refund]'),
      'watch to show the pending approval',
    );
    expect(await cli(['approve', id, '1.1', '--note', 'ok by ops'])).toMatchObject({
      code: 0,
      stdout: 'approved issue_refund (1.1)\n',
    });
    expect(await exitCode).toBe(0);
    const watched = { stdout };
    expect(watched.stdout).toContain('user: refund order 1042');
    expect(watched.stdout).toContain('  → issue_refund({"orderId":"1042","amountUsd":129,"reason":"delayed"})');
    expect(watched.stdout).toContain('[awaiting_approval: 1.1 issue_refund]');
    // The model reads the approver's note with the result.
    expect(watched.stdout).toMatch(
      / {2}← A person approved this call\. Their note: "ok by ops"\nResult: \{"refundId":"rf_\w+","orderId":"1042","amountUsd":129,"status":"issued"\}/,
    );
    // The run's ending, then what each of its two steps used.
    expect(watched.stdout).toMatch(/\n\[completed\]\nusage by step:\n( {2}.*\n){4}$/);
  });

  it('denies a call with a note', async () => {
    const id = (await cli(['start', 'helpdesk', 'refund order 1042', '--json'])).stdout;
    const runId = JSON.parse(id).workflowId;
    await eventually(
      async () => (await worker.client.workflow.getHandle(runId).query(stateQuery)).pendingApprovals.length,
      'the approval',
    );
    expect(await cli(['deny', runId, '1.1', '--note', 'not eligible'])).toMatchObject({
      code: 0,
      stdout: 'denied issue_refund (1.1)\n',
    });
    expect(JSON.parse((await cli(['result', runId, '--json'])).stdout)).toMatchObject({
      status: 'completed',
      output: 'Refund handled.',
    });
  });

  it('start --wait prints the result; list filters by agent, user and status', async () => {
    const user = `user-${Date.now()}`;
    const waited = await cli(['start', 'helpdesk', 'quick question', '--user', user, '--wait']);
    expect(waited.code).toBe(0);
    const [id, output] = waited.stdout.split('\n');
    expect(output).toBe('echo quick question (turn 0)');

    const listed = await eventually(async () => {
      const outcome = await cli(['list', '--user', user, '--status', 'completed', '--json']);
      const runs = JSON.parse(outcome.stdout);
      return runs.length ? runs : undefined;
    }, 'the run to be listed');
    expect(listed).toEqual([
      expect.objectContaining({ workflowId: id, status: 'completed', agent: 'helpdesk', user, steps: 1, tokens: 120 }),
    ]);
    const table = await cli(['list', '--user', user]);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID +STATUS +AGENT +USER +STEPS +TOKENS +COST +STARTED$/);
    expect(table.stdout).toContain(id);
    expect(table.stdout.split('\n')[1]).toMatch(/ 120 +\$0\.\d{6} /);
    expect((await cli(['list', '--user', 'nobody-at-all'])).stdout).toBe('no runs\n');

    // Newest first, as its help says, open or closed (the dev server lists open runs first).
    const open = (await cli(['start', 'helpdesk', 'slow question', '--user', user])).stdout.trim();
    const newest = (await cli(['start', 'helpdesk', 'quick question', '--user', user, '--wait'])).stdout.split('\n')[0];
    const all = await eventually(async () => {
      const runs = JSON.parse((await cli(['list', '--user', user, '--json'])).stdout) as { workflowId: string }[];
      return runs.length === 3 ? runs : undefined;
    }, 'the three runs to be listed');
    expect(all.map((run) => run.workflowId)).toEqual([newest, open, id]);
    await cli(['cancel', open]);
  });

  it('start passes budgets, the repeat guard and fallback models in the run input', async () => {
    const started = await cli([
      'start',
      'helpdesk',
      'budgeted question',
      '--max-steps',
      '5',
      '--max-duration',
      '60',
      '--max-repeats',
      '4',
      '--fallback-model',
      'backup',
      'last-resort',
      '--wait',
    ]);
    expect(started.code).toBe(0);
    const id = started.stdout.split('\n')[0];
    expect(await workflowInput<AgentRunInput>(worker.client.workflow.getHandle(id))).toEqual({
      agent: 'helpdesk',
      message: 'budgeted question',
      limits: { maxSteps: 5, maxDurationSeconds: 60, maxRepeats: 4 },
      fallbackModels: ['backup', 'last-resort'],
    });
  });

  it('cancels a run', async () => {
    const id = (await cli(['start', 'helpdesk', 'slow question'])).stdout.trim();
    await eventually(
      () => model.requests.some((request) => lastOf(request, 'user')?.content === 'slow question'),
      'the model call',
    );
    expect(await cli(['cancel', id])).toMatchObject({ code: 0, stdout: `cancel requested for ${id}\n` });
    expectOneLineError(await cli(['result', id]), 1, new RegExp(`^error: run ${id} was cancelled$`));
    expect((await worker.client.workflow.getHandle(id).describe()).status.name).toBe('CANCELLED');
  });

  it('answers mistakes with one line on stderr and a non-zero exit', async () => {
    expectOneLineError(await cli(['status', 'no-such-run']), 1, /^error: no run with id no-such-run$/);
    // The package bin is the same CLI.
    const bin = await run(join(REPO, 'bin', 'durable-agents.js'), ['status', 'no-such-run'], { env: cliEnv() }).catch(
      (error) => error,
    );
    expect(bin).toMatchObject({ code: 1, stderr: 'error: no run with id no-such-run\n' });
    expectOneLineError(await cli(['send', 'no-such-run', 'hi']), 1, /^error: no run with id no-such-run$/);
    expectOneLineError(await cli(['approve', 'no-such-run', '1.1']), 1, /^error: no run with id no-such-run$/);
    expectUsageError(
      await cli(['start', 'helpdesk']),
      /^error: missing required argument 'message'$/,
      'durable-agents start [options] <agent> <message>',
    );
    expectUsageError(await cli(['frobnicate']), /^error: unknown command 'frobnicate'$/, 'durable-agents [options]');
    expectUsageError(
      await cli(['list', '--status', 'sleeping']),
      /^error: option '--status <status>' argument 'sleeping' is invalid/,
      'durable-agents list [options]',
    );
    expectUsageError(
      await cli(['start', 'helpdesk', 'hi', '--max-steps', '-3']),
      /expected a positive number/,
      'durable-agents start',
    );

    const port = await freePort();
    expectOneLineError(
      await cli(['status', 'any'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` }),
      1,
      new RegExp(`^error: cannot reach Temporal at 127.0.0.1:${port}`),
    );

    const session = (await cli(['start', 'helpdesk', 'hi', '--session'])).stdout.trim();
    expectOneLineError(
      await cli(['approve', session, '7.7']),
      1,
      /^error: rejected: no tool call 7\.7 awaits approval; pending: \(none\)$/,
    );
    expectOneLineError(await cli(['send', session, ' ']), 1, /^error: invalid message: text: must not be empty$/);
    // --no-wait queues through the validated `enqueue` update: accepted at once, answered in turn.
    expect((await cli(['send', session, 'queued one', '--no-wait'])).stdout).toMatch(/^queued \(\d+ waiting\)\n$/);
    await eventually(async () => {
      const { messages } = await worker.client.workflow.getHandle(session).query(stateQuery);
      return messages.some((message) => message.role === 'user' && message.content === 'queued one');
    }, 'the queued message to be taken');
    await cli(['end', session]);
    // A task that is still open (its refund waits for a person) refuses queued messages.
    const task = (await cli(['start', 'helpdesk', 'refund order 1042'])).stdout.trim();
    await eventually(
      async () => (await worker.client.workflow.getHandle(task).query(stateQuery)).pendingApprovals.length,
      'the approval',
    );
    expectOneLineError(
      await cli(['send', task, 'more', '--no-wait']),
      1,
      /^error: rejected: this run is a task, not a session: start it with mode "session" \(durable-agents start --session\)$/,
    );
    await cli(['cancel', task]);
    // Checked before anything reaches Temporal, with the run's own schema: even with no server at all.
    for (const env of [{}, { TEMPORAL_ADDRESS: '127.0.0.1:1' }] as Record<string, string>[]) {
      expectOneLineError(
        await cli(['start', 'helpdesk', 'hi', '--user', 'u'.repeat(5_000)], env),
        1,
        /^error: invalid input: userId: must be at most 256 bytes \(is 5002\)$/,
      );
    }
  });

  it('status and watch of a failed run say why, with exit code 1', async () => {
    const id = (await cli(['start', 'no-such-agent', 'hi'])).stdout.trim();
    await eventually(
      async () => (await worker.client.workflow.getHandle(id).describe()).status.name === 'FAILED',
      'the run to fail',
    );
    const error = `error: run ${id} failed with UnknownAgent: unknown agent "no-such-agent"; known agents: helpdesk\n`;
    const watched = await cli(['watch', id]);
    // It failed before its transcript began: its ending is all there is to follow.
    expect(watched).toEqual({ code: 1, stdout: '[failed]\n', stderr: error });
    const json = await cli(['watch', id, '--json']);
    expect(json).toMatchObject({ code: 1, stderr: error });
    expect(JSON.parse(json.stdout)).toEqual({
      type: 'failure',
      status: 'failed',
      failure: {
        type: 'UnknownAgent',
        message: 'unknown agent "no-such-agent"; known agents: helpdesk',
        error: error.slice('error: '.length, -1),
      },
    });
    const status = await cli(['status', id]);
    expect(status).toMatchObject({ code: 1, stderr: error });
    expect(status.stdout).toMatch(
      /^status: failed\nagent: no-such-agent\nsteps: 0\nusage: 0 tokens \(0 in, 0 out\), \$0\.000000\nclosed: /,
    );
  });

  it('says a run has already closed, instead of that it does not exist', async () => {
    const id = (await cli(['start', 'helpdesk', 'quick question', '--wait'])).stdout.split('\n')[0];
    expectOneLineError(await cli(['send', id, 'one more']), 1, new RegExp(`^error: run ${id} has already completed$`));
    expectOneLineError(await cli(['approve', id, '1.1']), 1, new RegExp(`^error: run ${id} has already completed$`));
    // Temporal takes a cancel request for a closed run and does nothing: the command says so, exit 1.
    expectOneLineError(await cli(['cancel', id]), 1, new RegExp(`^error: run ${id} has already completed$`));
  });

  it('refuses a bad run id in one line that names the rule, before anything is sent (#21)', async () => {
    const unreachable = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const tooLong = /^error: invalid run id: must be at most 255 UTF-8 bytes \(is 2000\)$/;
    const newline = /^error: invalid run id: must not contain control characters \(U\+000A at index 3\)$/;
    const bad = 'run\nid';
    const outcomes = await Promise.all([
      cli(['start', 'helpdesk', 'hi', '--id', 'x'.repeat(2_000)]),
      cli(['start', 'helpdesk', 'hi', '--id', 'x'.repeat(2_000)], unreachable),
      cli(['start', 'helpdesk', 'hi', '--id', ' padded']),
      // Every command that takes a run id, with no Temporal to reach: refused before connecting.
      ...[
        ['status', bad],
        ['send', bad, 'hi'],
        ['approve', bad, '1.1'],
        ['deny', bad, '1.1'],
        ['end', bad],
        ['result', bad],
        ['watch', bad],
        ['transcript', bad],
        ['export', bad],
        ['cancel', bad],
      ].map((args) => cli(args, unreachable)),
    ]);
    const [long, longUnreachable, padded, ...byCommand] = outcomes;
    expectOneLineError(long, 1, tooLong);
    expectOneLineError(longUnreachable, 1, tooLong);
    expectOneLineError(padded, 1, /^error: invalid run id: must not begin or end with whitespace$/);
    for (const outcome of byCommand) expectOneLineError(outcome, 1, newline);

    // AgentClient holds ids to the same rule, for callers that are not the CLI.
    const agents = await AgentClient.connect(loadTemporalConfig(cliEnv()));
    try {
      await expect(
        agents.start({ agent: 'helpdesk', message: 'hi' }, { workflowId: 'x'.repeat(2_000) }),
      ).rejects.toThrow('invalid run id: must be at most 255 UTF-8 bytes (is 2000)');
      await expect(agents.report(bad)).rejects.toMatchObject({ kind: 'invalid_input' });
      await expect(agents.chat(bad, 'hi')).rejects.toMatchObject({ kind: 'invalid_input' });
    } finally {
      await agents.close();
    }
  });

  it("shows users' and models' control characters as escapes in start, status, transcript and watch; --json keeps them (#21)", async () => {
    // Clears the screen, retitles the window, returns to the line's start, a one-character CSI.
    const hostile = 'hi\x1b[2J\x1b]0;pwned\x07\rover \x9b31mred';
    const inert = terminalSafe(hostile);
    const started = await cli(['start', 'helpdesk', hostile, '--user', hostile, '--wait']);
    expect(started.code).toBe(0);
    const id = started.stdout.split('\n')[0];
    // The scripted model echoes the message: the answer carries it too.
    expect(started.stdout).toContain(`echo ${inert} (turn 0)`);
    const status = await cli(['status', id]);
    expect(status.stdout).toContain(`agent: helpdesk, user ${inert}`);
    const transcript = await cli(['transcript', id]);
    expect(transcript.stdout).toContain(`user: ${inert}\nassistant: echo ${inert} (turn 0)`);
    const watched = await cli(['watch', id]);
    expect(watched.stdout).toContain(`assistant: echo ${inert} (turn 0)`);
    for (const outcome of [started, status, transcript, watched]) {
      expect(outcome.code).toBe(0);
      // Nothing left to make inert: no control character but newline.
      expect(terminalSafe(`${outcome.stdout}${outcome.stderr}`)).toBe(`${outcome.stdout}${outcome.stderr}`);
    }
    // --json is for programs: the text as it is, escaped by JSON itself.
    const json = JSON.parse((await cli(['--json', 'status', id])).stdout);
    expect(json.userId).toBe(hostile);
  });

  it('lists a terminated run as terminated, never as waiting for a person', async () => {
    const user = `terminated-${Date.now()}`;
    const id = (await cli(['start', 'helpdesk', 'refund order 1042', '--user', user])).stdout.trim();
    await eventually(
      async () => (await cli(['list', '--user', user, '--status', 'awaiting_approval', '--json'])).stdout.includes(id),
      'the run to wait for a person',
    );
    await worker.client.workflow.getHandle(id).terminate('operator cleanup');
    expectOneLineError(await cli(['result', id]), 1, new RegExp(`^error: run ${id} was terminated: operator cleanup$`));
    const listed = await eventually(async () => {
      const runs = JSON.parse((await cli(['list', '--user', user, '--json'])).stdout);
      return runs[0]?.closed ? runs : undefined;
    }, 'the run to be listed closed');
    expect(listed).toEqual([expect.objectContaining({ workflowId: id, status: 'terminated', closed: true })]);
    expect(JSON.parse((await cli(['list', '--user', user, '--status', 'awaiting_approval', '--json'])).stdout)).toEqual(
      [],
    );
    // Filtered by the status it is listed with, though its AgentStatus still says it waits.
    const terminated = await cli(['list', '--user', user, '--status', 'terminated', '--json']);
    expect(terminated.code).toBe(0);
    expect(JSON.parse(terminated.stdout)).toEqual([expect.objectContaining({ workflowId: id, status: 'terminated' })]);
    expect(JSON.parse((await cli(['list', '--user', user, '--status', 'timed_out', '--json'])).stdout)).toEqual([]);
  });

  it('lists a run that timed out as timed_out, and finds it by that status', async () => {
    const user = `timed-out-${Date.now()}`;
    // No worker polls its queue: it stays `starting` until Temporal ends it after its execution timeout.
    const { workflowId } = await worker.client.workflow.start(WorkflowType.agentRun, {
      taskQueue: `nobody-polls-${user}`,
      workflowId: user,
      args: [{ agent: 'helpdesk', message: 'hello' }],
      workflowExecutionTimeout: '1s',
      typedSearchAttributes: [
        { key: searchAttributes.agentStatus, value: 'starting' },
        { key: searchAttributes.agentUser, value: user },
      ],
    });
    const listed = await eventually(async () => {
      const outcome = await cli(['list', '--user', user, '--status', 'timed_out', '--json']);
      expect(outcome.code).toBe(0);
      const runs = JSON.parse(outcome.stdout);
      return runs.length ? runs : undefined;
    }, 'the run to be listed timed out');
    expect(listed).toEqual([expect.objectContaining({ workflowId, status: 'timed_out', closed: true })]);
    expect(JSON.parse((await cli(['list', '--user', user, '--status', 'starting', '--json'])).stdout)).toEqual([]);
  });

  it('finds an open run that has not set its status by the status it is listed with, starting', async () => {
    const user = `unsaid-${Date.now()}`;
    // Started as the plain CLI would, on a queue no worker polls: no AgentStatus until its first task runs.
    const handle = await worker.client.workflow.start(WorkflowType.agentRun, {
      taskQueue: `nobody-polls-${user}`,
      workflowId: user,
      args: [{ agent: 'helpdesk', message: 'hello' }],
      typedSearchAttributes: [{ key: searchAttributes.agentUser, value: user }],
    });
    try {
      const listed = await eventually(async () => {
        const runs = JSON.parse((await cli(['list', '--user', user, '--status', 'starting', '--json'])).stdout);
        return runs.length ? runs : undefined;
      }, 'the run to be listed starting');
      expect(listed).toEqual([expect.objectContaining({ workflowId: user, status: 'starting', closed: false })]);
    } finally {
      await handle.terminate('test over');
    }
  });
});

/**
 * One address everywhere (#23): with a dev server on port A (the suite's own) and `TEMPORAL_PORT=B
 * ./temporal-dev.sh start` in a run folder of its own, the worker and the CLI started the README's way
 * (`npm run worker`, `npm run -s client -- start … --wait`) act on B only, even with a stale
 * TEMPORAL_PORT=A in their environment, and each says which server it uses and why. The worker's first
 * lines carry no bundler report and no SDK warning about the queues its roles leave out.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { byTurn, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { runCommand } from '../support/cli';
import { freePort } from '../support/dev-server';
import { tempPath, testAddress } from '../support/harness';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';

const REPO = join(__dirname, '..', '..');
const run = (command: string, args: string[], env: Record<string, string>) => runCommand(command, args, env, 120_000);

/** Whether the run `id` is on the server at `address`. */
async function runOn(address: string, id: string): Promise<string | undefined> {
  const connection = await Connection.connect({ address });
  try {
    return (await new Client({ connection }).workflow.getHandle(id).describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  } finally {
    await connection.close();
  }
}

describe('one address everywhere', () => {
  let model: ScriptedModel;
  let shell: Record<string, string>;
  let addressB: string;
  const addressA = testAddress();
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    model = await startScriptedModel(
      byTurn([reply.tools([{ name: 'get_forecast', args: { city: 'Lisbon' } }]), reply.text('Sunny in Lisbon.')]),
    );
    const runDir = tempPath('temporal-run');
    mkdirSync(runDir);
    const port = await freePort();
    addressB = `127.0.0.1:${port}`;
    // The user's shell: a run folder of its own, and a TEMPORAL_PORT left over from the server on A.
    shell = {
      PATH: process.env.PATH!,
      HOME: process.env.HOME!,
      TEMPORAL_RUN_DIR: runDir,
      TEMPORAL_PORT: addressA.split(':')[1],
      TEMPORAL_UI_PORT: String(await freePort()),
      OPENAI_BASE_URL: model.baseUrl,
      AGENT_MODULES: './test/fixtures/weather-agent.mjs',
      TASK_QUEUE: `one-address-${process.pid}-${Date.now()}`,
      HELPDESK_LEDGER: tempPath('ledger.jsonl'),
    };
  });

  afterAll(async () => {
    // The worker runs under npm in a process group of its own: the whole group stops.
    if (worker?.child.pid && worker.child.exitCode === null) process.kill(-worker.child.pid, 'SIGTERM');
    await worker?.exited;
    await run(join(REPO, 'temporal-dev.sh'), ['stop'], shell);
    await model?.close();
  });

  it('temporal-dev.sh start on B prints the export line; the worker and the CLI act on B, and say why', async () => {
    const started = await run(join(REPO, 'temporal-dev.sh'), ['start'], {
      ...shell,
      TEMPORAL_PORT: addressB.split(':')[1],
    });
    expect(started.code).toBe(0);
    expect(started.stdout.split('\n')).toContain(`export TEMPORAL_ADDRESS=${addressB}`);
    const why = `the dev server ./temporal-dev.sh runs: ${join(shell.TEMPORAL_RUN_DIR, 'server.addr')}`;

    // README: `./temporal-dev.sh start && AGENT_MODULES=./weather.mjs npm run worker &`.
    const child = spawn('npm', ['run', 'worker'], {
      cwd: REPO,
      env: shell,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    worker = {
      child,
      output: () => output,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))),
    };
    await waitUntilPolling(worker, 90_000);
    const lines = output.split('\n').filter((line) => line.startsWith('worker: '));
    expect(lines[0]).toBe(`worker: model gpt-4o-mini at ${model.baseUrl} (no OPENAI_API_KEY)`);
    expect(lines[1]).toContain(
      `worker: polling task queue "${shell.TASK_QUEUE}" (runs, model calls, tool calls), "${shell.TASK_QUEUE}-model" ` +
        `(model calls of earlier runs), "${shell.TASK_QUEUE}-tools" (tool calls of earlier runs) on ${addressB} ` +
        `(${why}), namespace default, role all; agents: `,
    );
    // Bundled at start, without webpack's report; its model and tools queues poll no workflows, unwarned.
    expect(output).not.toMatch(/webpack|asset workflow-bundle|Workflow bundle created/);
    expect(output).not.toContain('No workflows registered');

    // README: `npm run -s client -- start weather "Weather in Lisbon?" --wait`.
    const waited = await run(
      'npm',
      ['run', '-s', 'client', '--', 'start', 'weather', 'Weather in Lisbon?', '--wait'],
      shell,
    );
    expect(waited.code).toBe(0);
    const [id] = waited.stdout.split('\n');
    expect(waited.stdout).toContain('Sunny in Lisbon.');
    expect(waited.stderr.split('\n')[0]).toBe(`note: Temporal at ${addressB} (${why})`);
    expect(await runOn(addressB, id)).toBe('COMPLETED');
    expect(await runOn(addressA, id)).toBeUndefined();

    // Not a coincidence: without the dev server's run folder, the same shell would reach A, and says so.
    const elsewhere = tempPath('no-run');
    mkdirSync(elsewhere);
    const listed = await run('npm', ['run', '-s', 'client', '--', 'list', '--user', 'nobody-here'], {
      ...shell,
      TEMPORAL_RUN_DIR: elsewhere,
    });
    expect(listed).toMatchObject({ code: 0, stdout: 'no runs\n' });
    expect(listed.stderr).toBe(`note: Temporal at ${addressA} (TEMPORAL_PORT)\n`);
  }, 240_000);
});

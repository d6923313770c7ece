/**
 * The local tour's processes (issue #12), real processes on real dev servers: `durable-agents dev`
 * starts a dev server on TEMPORAL_PORT and an offline worker, a run started through the CLI completes
 * on it, and SIGINT stops both (the port is free again, exit code 0); a Temporal already answering on
 * the port is used and left running. `durable-agents worker --offline` is `npm run worker -- --offline`,
 * and `npm run demo` runs on the server it started on TEMPORAL_PORT.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { SAMPLE_REQUEST } from '../../runtime/offline-model';
import { pendingCall, runCli } from '../support/cli';
import { spawnCli, waitForOutput, type CliProcess } from '../support/cli-process';
import { eventually } from '../support/eventually';
import { freePort } from '../support/dev-server';
import { tempPath, testAddress, workerEnv } from '../support/harness';

const REPO = join(__dirname, '..', '..');
const execute = promisify(execFile);

/** A run folder, ports and a ledger of their own: nothing here touches .temporal/ or the default ports. */
async function localEnv(): Promise<Record<string, string>> {
  const runDir = tempPath('temporal-run');
  mkdirSync(runDir);
  return {
    TEMPORAL_RUN_DIR: runDir,
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    // The suite's prebuilt workflow bundle: a worker needs seconds less to start.
    WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE!,
    HELPDESK_LEDGER: tempPath('ledger.jsonl'),
  };
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Dev server processes on `port`, by command line (as test/integration/temporal-dev.test.ts counts them). */
function serverProcesses(port: string): string {
  try {
    return execFileSync('pgrep', ['-f', `start-dev.*--port ${port}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

const processes: CliProcess[] = [];
const runDirs: Record<string, string>[] = [];
afterEach(async () => {
  for (const cli of processes.splice(0)) {
    if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    await cli.exited;
  }
  // Whatever a failed test left running.
  for (const env of runDirs.splice(0)) {
    await execute(join(REPO, 'temporal-dev.sh'), ['stop'], { env: { ...process.env, ...env } }).catch(() => {});
  }
});

describe('durable-agents dev', () => {
  it('starts a dev server on TEMPORAL_PORT and an offline worker; a CLI run completes; SIGINT stops both, exit 0', async () => {
    const env = await localEnv();
    runDirs.push(env);
    const dev = spawnCli(['dev'], env);
    processes.push(dev);
    await waitForOutput(dev, 'dev: Ctrl-C stops the worker and the dev server', 90_000);
    const address = `127.0.0.1:${env.TEMPORAL_PORT}`;
    const lines = dev.stdout().split('\n');
    expect(lines[0]).toMatch(
      /^worker: model OFFLINE DEMO MODEL \(scripted, no key needed\) at http:\/\/127\.0\.0\.1:\d+\/v1$/,
    );
    expect(lines[1]).toMatch(
      new RegExp(
        '^worker: polling task queue "agents" \\(runs, model calls, tool calls\\), "agents-model" \\(model calls of ' +
          `earlier runs\\), "agents-tools" \\(tool calls of earlier runs\\) on ${address} `,
      ),
    );
    expect(lines).toContain(`dev: Temporal at ${address} (started here; Ctrl-C stops it)`);
    expect(lines).toContain(`dev: Web UI http://localhost:${env.TEMPORAL_UI_PORT}`);
    // The commands to try name the server: it is not on the CLI's default port.
    const prefix = `  npm run -s client -- --address ${address} `;
    const examples = lines.filter((line) => line.startsWith(prefix)).map((line) => line.slice(prefix.length));
    expect(examples.map((line) => line.split(' ')[0])).toEqual(['start', 'status', 'approve', 'send']);
    expect((await fetch(`http://localhost:${env.TEMPORAL_UI_PORT}/`)).status).toBe(200);
    const serverPid = Number(readFileSync(join(env.TEMPORAL_RUN_DIR, 'server.pid'), 'utf8'));

    // The tour, through the CLI: the offline model asks for the refund, a person approves it.
    const cliEnv = { TEMPORAL_ADDRESS: address };
    const id = `dev-${randomUUID()}`;
    const started = runCli(['start', 'helpdesk', SAMPLE_REQUEST, '--id', id, '--wait'], cliEnv, 60_000);
    const callId = await pendingCall(id, cliEnv, 'issue_refund');
    expect(await runCli(['approve', id, callId], cliEnv)).toMatchObject({ code: 0 });
    const { code, stdout } = await started;
    expect(code).toBe(0);
    expect(stdout).toContain('I have refunded the full $129 to your original payment method');

    dev.child.kill('SIGINT');
    expect(await dev.exited).toBe(0);
    expect(dev.stderr()).toContain(`dev: stopped the Temporal dev server at ${address}`);
    expect(await portOpen(Number(env.TEMPORAL_PORT))).toBe(false);
    expect(await portOpen(Number(env.TEMPORAL_UI_PORT))).toBe(false);
    expect(() => process.kill(serverPid, 0)).toThrow(/ESRCH/);
    expect(serverProcesses(env.TEMPORAL_PORT)).toBe('');
    expect(existsSync(join(env.TEMPORAL_RUN_DIR, 'server.pid'))).toBe(false);
  }, 150_000);

  it('uses a Temporal that already answers on TEMPORAL_PORT and leaves it running (SIGTERM, exit 0)', async () => {
    const shared = testAddress();
    const env = { ...(await localEnv()), TEMPORAL_PORT: shared.split(':')[1], TASK_QUEUE: `dev-${randomUUID()}` };
    const dev = spawnCli(['dev'], env);
    processes.push(dev);
    await waitForOutput(dev, 'dev: Ctrl-C stops the worker', 60_000);
    expect(dev.stdout()).toContain(`dev: Temporal at ${shared} (already running; left running)`);
    expect(dev.stdout()).not.toContain('and the dev server');
    dev.child.kill('SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(dev.stderr()).not.toContain('stopped the Temporal dev server');
    const connection = await Connection.connect({ address: shared });
    await connection.workflowService.getSystemInfo({});
    await connection.close();
  }, 90_000);
});

describe('durable-agents worker', () => {
  it('--offline runs the worker npm run worker -- --offline runs; SIGTERM stops it with exit code 0', async () => {
    const env = workerEnv({ OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined });
    const worker = spawnCli(['worker', '--offline'], env);
    processes.push(worker);
    await waitForOutput(worker, 'worker: polling');
    const [first, second] = worker.stdout().split('\n');
    expect(first).toMatch(
      /^worker: model OFFLINE DEMO MODEL \(scripted, no key needed\) at http:\/\/127\.0\.0\.1:\d+\/v1$/,
    );
    expect(second).toBe(
      `worker: polling task queue "${env.TASK_QUEUE}" (runs, model calls, tool calls), "${env.TASK_QUEUE}-model" ` +
        `(model calls of earlier runs), "${env.TASK_QUEUE}-tools" (tool calls of earlier runs) on ` +
        `${env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS), namespace default, ` +
        'role all; agents: helpdesk',
    );
    const id = `worker-${randomUUID()}`;
    const started = runCli(['start', 'helpdesk', SAMPLE_REQUEST, '--id', id, '--wait'], env, 60_000);
    const callId = await pendingCall(id, env, 'issue_refund');
    expect(await runCli(['deny', id, callId], env)).toMatchObject({ code: 0 });
    expect((await started).stdout).toContain('I could not issue the refund for order 1042 right now');
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  }, 120_000);

  it('serves health and metrics on loopback only, unless HEALTH_HOST and METRICS_HOST say otherwise (#21)', async () => {
    // Another address of this machine, where a server listening on every interface would answer.
    const other = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4')?.address;
    const serve = async (hosts: Record<string, string>) => {
      const ports = { health: await freePort(), metrics: await freePort() };
      const env = workerEnv({ OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined });
      const worker = spawnCli(['worker', '--offline'], {
        ...env,
        HEALTH_PORT: String(ports.health),
        METRICS_PORT: String(ports.metrics),
        ...hosts,
      });
      processes.push(worker);
      await waitForOutput(worker, 'worker: polling');
      return { worker, ...ports };
    };
    const loopback = await serve({});
    await eventually(async () => (await reach(`127.0.0.1:${loopback.health}/healthz`)) === 200, 'health on 127.0.0.1');
    await eventually(
      async () => (await reach(`127.0.0.1:${loopback.metrics}/metrics`)) === 200,
      'metrics on 127.0.0.1',
    );
    if (other) {
      expect(await reach(`${other}:${loopback.health}/healthz`)).toBe('ECONNREFUSED');
      expect(await reach(`${other}:${loopback.metrics}/metrics`)).toBe('ECONNREFUSED');
    }
    loopback.worker.child.kill('SIGTERM');
    expect(await loopback.worker.exited).toBe(0);

    // Every interface for health, as deploy/ sets it; IPv6 loopback alone for metrics.
    const opened = await serve({ HEALTH_HOST: '0.0.0.0', METRICS_HOST: '::1' });
    await eventually(async () => (await reach(`[::1]:${opened.metrics}/metrics`)) === 200, 'metrics on ::1');
    expect(await reach(`127.0.0.1:${opened.metrics}/metrics`)).toBe('ECONNREFUSED');
    await eventually(async () => (await reach(`127.0.0.1:${opened.health}/healthz`)) === 200, 'health on 127.0.0.1');
    if (other) expect(await reach(`${other}:${opened.health}/healthz`)).toBe(200);
    opened.worker.child.kill('SIGTERM');
    expect(await opened.worker.exited).toBe(0);
  }, 120_000);
});

/** The HTTP status `host:port/path` answers with, or the code of the error that kept it from answering. */
async function reach(target: string): Promise<number | string> {
  try {
    return (await fetch(`http://${target}`, { signal: AbortSignal.timeout(5_000) })).status;
  } catch (error) {
    return ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code ?? (error as Error).name;
  }
}

describe('npm run demo', () => {
  it('starts the dev server on TEMPORAL_PORT and runs on it; dev then uses that server and leaves it running', async () => {
    const env = await localEnv();
    runDirs.push(env);
    const demo = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'demo', 'run.ts')], {
      cwd: REPO,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    demo.stdout.on('data', (chunk) => (output += chunk));
    demo.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise((resolve) => demo.once('exit', resolve));
    expect({ code, output }).toMatchObject({ code: 0 });
    const address = `127.0.0.1:${env.TEMPORAL_PORT}`;
    // Its first line says where Temporal is, and why there.
    expect(output.split('\n')).toContain(`Temporal at ${address} (started here: ./temporal-dev.sh start)`);
    const link = new RegExp(`Web UI: http://localhost:${env.TEMPORAL_UI_PORT}/namespaces/default/workflows/(\\S+)`);
    const id = link.exec(output)?.[1];
    expect(id).toBeDefined();
    expect(output).toContain(
      `The dev server at ${address} keeps running (TEMPORAL_RUN_DIR=${env.TEMPORAL_RUN_DIR} ./temporal-dev.sh stop to stop it).`,
    );
    // The run is on the server the demo started.
    const connection = await Connection.connect({ address });
    try {
      const description = await new Client({ connection }).workflow.getHandle(id!).describe();
      expect(description.status.name).toBe('COMPLETED');
    } finally {
      await connection.close();
    }

    // dev finds the server temporal-dev.sh runs, on the ports it recorded (not TEMPORAL_PORT's now).
    const dev = spawnCli(['dev'], { ...env, TEMPORAL_PORT: String(await freePort()) });
    processes.push(dev);
    await waitForOutput(dev, 'dev: Ctrl-C stops the worker', 60_000);
    expect(dev.stdout()).toContain(
      `dev: Temporal at ${address} (already running; left running: TEMPORAL_RUN_DIR=${env.TEMPORAL_RUN_DIR} ./temporal-dev.sh stop stops it)`,
    );
    expect(dev.stdout()).toContain(`dev: Web UI http://localhost:${env.TEMPORAL_UI_PORT}\n`);
    dev.child.kill('SIGINT');
    expect(await dev.exited).toBe(0);
    expect(await portOpen(Number(env.TEMPORAL_PORT))).toBe(true);
  }, 120_000);
});

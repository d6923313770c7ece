/**
 * Where a local tour's Temporal is, in one place (`durable-agents dev`, `npm run demo`), found as every
 * entry finds it (src/config.ts): the server a flag, TEMPORAL_ADDRESS or a profile names; else the dev
 * server `temporal-dev.sh` runs (on the ports it recorded when it started, whatever TEMPORAL_PORT says
 * now); else a Temporal server already answering on TEMPORAL_PORT (or the default port); else a dev
 * server started here with `temporal-dev.sh start`, which only then is this process's to stop.
 */
import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { loadTemporalConfig, type TemporalOverrides } from '../src/config';
import { checkoutRoot, isFoundAddress, runningDevServer } from '../src/temporal-address';

type Env = Record<string, string | undefined>;

export interface LocalTemporal {
  /** host:port for clients and workers. */
  address: string;
  /** Why this server: a flag, TEMPORAL_ADDRESS or a profile named it, or it was found where nobody did. */
  reason: string;
  /** The Web UI, where it is known (not for a server this did not find through temporal-dev.sh). */
  uiUrl?: string;
  /**
   * `configured`: a flag, TEMPORAL_ADDRESS or a profile named it; `running`: it was running already
   * (temporal-dev.sh's, or another Temporal on the port); `started`: started here, by `temporal-dev.sh start`.
   */
  origin: 'configured' | 'running' | 'started';
  /** The command that stops it, when temporal-dev.sh runs it. */
  stopCommand?: string;
  /** Stops the server if it was started here (`temporal-dev.sh stop`); does nothing otherwise. */
  stop(): Promise<void>;
  /** The same, synchronously: for a process that is exiting. */
  stopSync(): void;
}

/** What to do without a checkout (the installed package ships no temporal-dev.sh): point it at any Temporal. */
export const NO_DEV_SERVER_SCRIPT =
  'starting a dev server takes ./temporal-dev.sh, which only a checkout of the durable-agents repository ' +
  'has; run any Temporal (temporal server start-dev, or Temporal Cloud) and name it: ' +
  'npx durable-agents --address HOST:PORT dev (or TEMPORAL_ADDRESS, or --profile)';

interface ScriptOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `temporal-dev.sh <command>` with `env`, its output copied to stderr when `show`. In a process
 * group of its own: a Ctrl-C meant for this process does not cut a start or a stop short.
 */
function script(root: string, command: string, env: Env, show: boolean): Promise<ScriptOutcome> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(root, 'temporal-dev.sh'), [command], {
      env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const outcome = { code: -1, stdout: '', stderr: '' };
    child.stdout.on('data', (chunk: Buffer) => {
      outcome.stdout += chunk;
      if (show) process.stderr.write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      outcome.stderr += chunk;
      if (show) process.stderr.write(chunk);
    });
    child.once('error', reject);
    child.once('close', (code) => resolvePromise({ ...outcome, code: code ?? -1 }));
  });
}

/** The script's one-line error, without its prefix. */
function scriptError(outcome: ScriptOutcome): Error {
  const line = outcome.stderr.trim().split('\n').pop() || `temporal-dev.sh failed with exit code ${outcome.code}`;
  return new Error(line.replace(/^temporal-dev: error: /, ''));
}

/** Whether something accepts TCP connections at `address` (quick: a closed port answers at once). */
function portOpen(address: string): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  return new Promise((resolvePromise) => {
    const socket = connect({ host, port: Number(address.slice(colon + 1)) });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether a Temporal frontend answers at `address`. */
async function answersTemporal(address: string): Promise<boolean> {
  if (!(await portOpen(address))) return false;
  try {
    const connection = await Connection.connect({ address, connectTimeout: 3_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

/** `value` as one shell word. */
const shellWord = (value: string) => (/^[\w./:=@-]+$/.test(value) ? value : `'${value.replaceAll("'", "'\\''")}'`);

/** The dev server temporal-dev.sh runs for `env`, as the tour shows it. */
function scriptServer(env: Env, origin: LocalTemporal['origin']): Omit<LocalTemporal, 'stop' | 'stopSync'> {
  const server = runningDevServer(env);
  if (!server) throw new Error('the Temporal dev server temporal-dev.sh started is not running (see above)');
  return {
    address: server.address,
    reason: loadTemporalConfig(env).addressFrom?.reason ?? 'the dev server ./temporal-dev.sh runs',
    ...(server.uiPort && { uiUrl: `http://localhost:${server.uiPort}` }),
    origin,
    stopCommand: `${env.TEMPORAL_RUN_DIR ? `TEMPORAL_RUN_DIR=${shellWord(env.TEMPORAL_RUN_DIR)} ` : ''}./temporal-dev.sh stop`,
  };
}

/**
 * Finds the local tour's Temporal as every entry finds it (`overrides`: the CLI's flags), or starts a
 * dev server (`temporal-dev.sh start`, its progress on stderr). Only a server started here is stopped
 * by `stop()`.
 */
export async function findOrStartTemporal(env: Env, overrides: TemporalOverrides = {}): Promise<LocalTemporal> {
  const noStop = { stop: async () => {}, stopSync: () => {} };
  const config = loadTemporalConfig(env, overrides);
  const { TEMPORAL_ADDRESS: address, addressFrom } = config;
  const reason = addressFrom?.reason ?? 'as configured';
  if (!isFoundAddress(addressFrom)) return { address, reason, origin: 'configured', ...noStop };
  // The script's own server (its pid file in the run folder), on whatever ports it started with.
  if (addressFrom?.source === 'dev server') return { ...scriptServer(env, 'running'), ...noStop };
  // Another Temporal on the port (`temporal server start-dev`, another run folder): use it, leave it be.
  if (await answersTemporal(address)) return { address, reason, origin: 'running', ...noStop };

  const root = checkoutRoot();
  if (!root) throw new Error(`nothing answers at ${address} (${reason}), and ${NO_DEV_SERVER_SCRIPT}`);
  const started = await script(root, 'start', env, true);
  if (started.code !== 0) throw new Error('the Temporal dev server did not start (see above)');
  // Started by someone else in the meantime: theirs to stop.
  if (/already running/.test(started.stdout)) return { ...scriptServer(env, 'running'), ...noStop };
  let stopped = false;
  return {
    ...scriptServer(env, 'started'),
    async stop() {
      if (stopped) return;
      stopped = true;
      const outcome = await script(root, 'stop', env, false);
      if (outcome.code !== 0) throw scriptError(outcome);
    },
    stopSync() {
      if (stopped) return;
      stopped = true;
      spawnSync(join(root, 'temporal-dev.sh'), ['stop'], { env, stdio: 'ignore' });
    },
  };
}

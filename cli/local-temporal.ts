/**
 * Where a local tour's Temporal is, in one place (`durable-agents dev`, `npm run demo`): the server
 * `TEMPORAL_ADDRESS` names when it is set; else the dev server `temporal-dev.sh` runs (on the ports it
 * recorded when it started, whatever TEMPORAL_PORT says now); else a Temporal server already answering
 * on TEMPORAL_PORT; else a dev server started here with `temporal-dev.sh start`, which only then is
 * this process's to stop.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';

type Env = Record<string, string | undefined>;

/** The script's defaults (temporal-dev.sh). */
const DEFAULT_PORT = 7233;
const DEFAULT_UI_PORT = 8233;
const HOST = '127.0.0.1';

export interface LocalTemporal {
  /** host:port for clients and workers. */
  address: string;
  /** The Web UI, where it is known (not for a server this did not find through temporal-dev.sh). */
  uiUrl?: string;
  /**
   * `configured`: TEMPORAL_ADDRESS named it; `running`: it was running already (temporal-dev.sh's, or
   * another Temporal on the port); `started`: started here, by `temporal-dev.sh start`.
   */
  origin: 'configured' | 'running' | 'started';
  /** The command that stops it, when temporal-dev.sh runs it. */
  stopCommand?: string;
  /** Stops the server if it was started here (`temporal-dev.sh stop`); does nothing otherwise. */
  stop(): Promise<void>;
  /** The same, synchronously: for a process that is exiting. */
  stopSync(): void;
}

/** The project's folder: where temporal-dev.sh is, from the sources (cli/) or a build (dist/cli/). */
function projectRoot(): string {
  const root = [join(__dirname, '..'), join(__dirname, '..', '..')].find((dir) =>
    existsSync(join(dir, 'temporal-dev.sh')),
  );
  if (!root)
    throw new Error(
      'temporal-dev.sh is not here: a local dev server needs a checkout of the durable-agents repository',
    );
  return root;
}

/** The folder of the script's pid, log and ports (TEMPORAL_RUN_DIR, relative to the project, as the script reads it). */
export function runDir(env: Env, root = projectRoot()): string {
  return resolve(root, env.TEMPORAL_RUN_DIR || '.temporal');
}

/** The ports the script's running server was started with (its `server.addr`), if it recorded them. */
export function recordedPorts(dir: string): { TEMPORAL_PORT?: number; TEMPORAL_UI_PORT?: number } | undefined {
  const file = join(dir, 'server.addr');
  if (!existsSync(file)) return undefined;
  const ports: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    // Data, never code: known keys with port numbers only (as the script itself reads it).
    const match = /^(TEMPORAL_PORT|TEMPORAL_UI_PORT|CODEC_SERVER_PORT)=(\d{1,5})$/.exec(line);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) {
      throw new Error(`state file ${file} is invalid and was not used; remove it, or run ./temporal-dev.sh stop`);
    }
    ports[match[1]] = Number(match[2]);
  }
  return ports;
}

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

/** Whether something accepts TCP connections on HOST:port (quick: a closed port answers at once). */
function portOpen(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: HOST, port });
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

const uiUrl = (port: number | undefined) => (port ? `http://localhost:${port}` : undefined);

/**
 * Finds the local tour's Temporal, or starts a dev server (`temporal-dev.sh start`, its progress on
 * stderr). Only a server started here is stopped by `stop()`.
 */
export async function findOrStartTemporal(env: Env): Promise<LocalTemporal> {
  const noStop = { stop: async () => {}, stopSync: () => {} };
  const configured = env.TEMPORAL_ADDRESS?.trim();
  if (configured) return { address: configured, origin: 'configured', ...noStop };

  const root = projectRoot();
  const fromScript = (origin: LocalTemporal['origin']): Omit<LocalTemporal, 'stop' | 'stopSync'> => {
    const ports = recordedPorts(runDir(env, root));
    return {
      address: `${HOST}:${ports?.TEMPORAL_PORT ?? (Number(env.TEMPORAL_PORT) || DEFAULT_PORT)}`,
      uiUrl: uiUrl(ports?.TEMPORAL_UI_PORT ?? (Number(env.TEMPORAL_UI_PORT) || DEFAULT_UI_PORT)),
      origin,
      stopCommand: `${env.TEMPORAL_RUN_DIR ? `TEMPORAL_RUN_DIR=${shellWord(env.TEMPORAL_RUN_DIR)} ` : ''}./temporal-dev.sh stop`,
    };
  };

  // The script's own server (its pid file in the run folder), on whatever ports it started with.
  const status = await script(root, 'status', env, false);
  if (status.code === 0) return { ...fromScript('running'), ...noStop };
  if (status.code !== 3) throw scriptError(status);

  // Another Temporal on the port (`temporal server start-dev`, another run folder): use it, leave it be.
  const port = Number(env.TEMPORAL_PORT) || DEFAULT_PORT;
  if ((await portOpen(port)) && (await answersTemporal(`${HOST}:${port}`))) {
    return { address: `${HOST}:${port}`, origin: 'running', ...noStop };
  }

  const started = await script(root, 'start', env, true);
  if (started.code !== 0) throw new Error('the Temporal dev server did not start (see above)');
  // Started by someone else in the meantime: theirs to stop.
  if (/already running/.test(started.stdout)) return { ...fromScript('running'), ...noStop };
  let stopped = false;
  return {
    ...fromScript('started'),
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

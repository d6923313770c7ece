/**
 * The durable peers of `npm run bench`, each set up as a user would run it on one machine, against
 * the bench's scripted model:
 *
 * - restate: the restate-server binary from npm (bench/peers/restate, installed on demand) with a
 *   fresh data folder and its own ports, and the loop as a Restate service in a Node process of its
 *   own (service.mjs), registered with the server and called over its HTTP ingress;
 * - dbos: a fresh PostgreSQL cluster (support/postgres.ts) and the loop as a DBOS workflow in a Node
 *   process of its own (app.mjs), started and awaited over that process's HTTP.
 *
 * Each is a `DurableEngine`: the bench measures its processes from /proc, and kills and restarts its
 * loop process to time recovery (support/recovery.ts).
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort } from '../testing/dev-server';
import { ensurePeer } from './peers/ensure';
import { spawnMeasuredProcess, type NodeProcess } from './support/node-process';
import { startPostgres } from './support/postgres';
import { benchTask, STEPS } from './support/work-unit';

/** An engine running the loop: its processes, how to run one run, what it persisted. */
export interface DurableEngine {
  /** The process running the loop: the one killed to time recovery. */
  loop: NodeProcess;
  /** The engine's server, measured with its children (PostgreSQL's backends). */
  server: { pid: number; what: string };
  /** Starts run `id` and resolves once it completed the work unit (throws otherwise). */
  run(id: string): Promise<void>;
  /** SIGKILLs the loop process, waits for its exit, starts it again; resolves once it serves. */
  killAndRestart(): Promise<{ restartMs: number }>;
  /** Marks the start of the measured runs, for `persisted`. */
  startMeasuring(): void;
  /** Bytes the engine persisted per run for runs `ids` (started since `startMeasuring`), and what that is. */
  persisted(ids: string[]): { bytes: number; what: string };
  versions: Record<string, string>;
  stop(): Promise<void>;
}

const installedVersion = (dir: string, name: string): string =>
  (JSON.parse(readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

async function postJson(url: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const text = await response.text();
  return { status: response.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}

/** Throws unless `result` is the loop's answer to the whole work unit. */
function checkLoopResult(result: unknown, id: string): void {
  const { output, steps } = (result ?? {}) as { output?: unknown; steps?: unknown };
  if (output !== 'done' || steps !== STEPS)
    throw new Error(`run ${id} did not do the work unit: ${JSON.stringify(result).slice(0, 300)}`);
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A loop process (`entry` of a peer folder) on `port`; `restart` kills it and starts another the same way. */
async function startLoopProcess(entry: string, env: Record<string, string>) {
  const start = async () => {
    const loop = spawnMeasuredProcess(process.execPath, [entry], env, { cwd: dirname(entry) });
    try {
      await loop.ready(/listening on \d+/);
    } catch (error) {
      await loop.stop(2_000);
      throw error;
    }
    return loop;
  };
  const holder = { loop: await start() };
  const killAndRestart = async () => {
    const killedAt = performance.now();
    holder.loop.child.kill('SIGKILL');
    await holder.loop.stop();
    holder.loop = await start();
    return { restartMs: performance.now() - killedAt };
  };
  return { holder, killAndRestart };
}

/** Apparent bytes of the files under `dir` now. */
function folderBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    try {
      const stat = statSync(join(dir, name));
      if (stat.isFile()) total += stat.size;
    } catch {
      // Removed while we looked (compaction).
    }
  }
  return total;
}

export async function startRestate(modelBaseUrl: string): Promise<DurableEngine> {
  const service = ensurePeer('restate', 'service.mjs');
  const peerDir = dirname(service);
  // The platform package npm installed beside @restatedev/restate-server carries the binary.
  const platform = `restate-server-${process.platform}-${process.arch}`;
  const binary = join(peerDir, 'node_modules', '@restatedev', platform, 'bin', 'restate-server');
  if (!existsSync(binary))
    throw new Error(`no restate-server binary for ${process.platform}-${process.arch} at ${binary}`);
  const base = mkdtempSync(join(tmpdir(), 'bench-restate-'));
  const [ingress, admin, fabric, servicePort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const server = spawnMeasuredProcess(
    binary,
    [
      '--no-logo',
      '--listen-mode',
      'tcp',
      '--base-dir',
      base,
      '--node-name',
      'bench',
      '--bind-address',
      `127.0.0.1:${fabric}`,
    ],
    {
      RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
      RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
      RESTATE_LOG_FORMAT: 'compact',
      RESTATE_LOG_FILTER: 'warn',
    },
    { cwd: base },
  );
  const stopServer = async () => {
    await server.stop(10_000);
    rmSync(base, { recursive: true, force: true });
  };
  try {
    await waitFor('restate-server was not healthy', async () => (await fetch(`http://127.0.0.1:${admin}/health`)).ok);
    const { holder, killAndRestart } = await startLoopProcess(service, {
      PORT: String(servicePort),
      OPENAI_BASE_URL: modelBaseUrl,
      BENCH_TASK: JSON.stringify(benchTask()),
    });
    const registered = await postJson(`http://127.0.0.1:${admin}/deployments`, {
      uri: `http://127.0.0.1:${servicePort}`,
    });
    if (registered.status >= 300)
      throw new Error(`restate: registering the service failed: ${JSON.stringify(registered)}`);
    let before = 0;
    return {
      get loop() {
        return holder.loop;
      },
      server: { pid: server.pid, what: 'restate-server' },
      async run(id) {
        const { status, json } = await postJson(`http://127.0.0.1:${ingress}/AgentLoop/run`);
        if (status !== 200) throw new Error(`restate run ${id}: HTTP ${status} ${JSON.stringify(json).slice(0, 300)}`);
        checkLoopResult(json, id);
      },
      killAndRestart,
      startMeasuring: () => void (before = folderBytes(base)),
      persisted: (ids) => ({
        // Restate keeps no journal of a finished service call by default: what it wrote is its log and
        // RocksDB, whose files the data folder holds (write-ahead logs included, before compaction).
        bytes: (folderBytes(base) - before) / ids.length,
        what: 'growth of the data folder per run (log + RocksDB files, before compaction)',
      }),
      versions: {
        '@restatedev/restate-server': installedVersion(peerDir, '@restatedev/restate-server'),
        '@restatedev/restate-sdk': installedVersion(peerDir, '@restatedev/restate-sdk'),
      },
      async stop() {
        await holder.loop.stop(5_000);
        await stopServer();
      },
    };
  } catch (error) {
    await stopServer();
    throw error;
  }
}

export async function startDbos(modelBaseUrl: string): Promise<DurableEngine> {
  const app = ensurePeer('dbos', 'app.mjs');
  const peerDir = dirname(app);
  const postgres = await startPostgres();
  const port = await freePort();
  const database = 'bench_dbos';
  try {
    const { holder, killAndRestart } = await startLoopProcess(app, {
      PORT: String(port),
      OPENAI_BASE_URL: modelBaseUrl,
      BENCH_TASK: JSON.stringify(benchTask()),
      DBOS_SYSTEM_DATABASE_URL: postgres.url(database),
    });
    const runUrl = (id: string) => `http://127.0.0.1:${port}/runs/${id}`;
    return {
      get loop() {
        return holder.loop;
      },
      server: { pid: postgres.pid, what: 'PostgreSQL (postmaster and its backends)' },
      async run(id) {
        const started = await postJson(runUrl(id));
        if (started.status !== 202)
          throw new Error(`dbos run ${id}: HTTP ${started.status} ${JSON.stringify(started.json)}`);
        // The result survives a restart of the app: ask again while it is down.
        for (;;) {
          const response = await fetch(runUrl(id)).catch(() => undefined);
          if (response?.status === 200) return checkLoopResult(await response.json(), id);
          if (response)
            throw new Error(`dbos run ${id}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      },
      killAndRestart,
      startMeasuring: () => undefined,
      persisted(ids) {
        const list = ids.map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
        const tables = postgres
          .query(
            database,
            "SELECT table_name FROM information_schema.columns WHERE table_schema = 'dbos' AND column_name = 'workflow_uuid'",
          )
          .split('\n')
          .filter(Boolean);
        const sums = tables.map((table) =>
          Number(
            postgres.query(
              database,
              `SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM dbos."${table}" t WHERE workflow_uuid IN (${list})`,
            ),
          ),
        );
        return {
          bytes: sums.reduce((total, value) => total + value, 0) / ids.length,
          what: `row bytes per run in dbos.{${tables.join(',')}} (pg_column_size, before indexes and WAL)`,
        };
      },
      versions: {
        '@dbos-inc/dbos-sdk': installedVersion(peerDir, '@dbos-inc/dbos-sdk'),
        postgresql: postgres.query(database, 'SHOW server_version'),
      },
      async stop() {
        await holder.loop.stop(5_000);
        postgres.stop();
      },
    };
  } catch (error) {
    postgres.stop();
    throw error;
  }
}

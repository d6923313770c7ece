/**
 * The bench on a real Temporal cluster (`npm run bench -- --server cluster`): the one
 * `./temporal-dev.sh cluster up` runs (deploy/local-cluster/: the server built with Go the first time,
 * its four services as separate processes, on a PostgreSQL of its own), in a run folder of the
 * bench's, taken down after. Its CPU is its services' and PostgreSQL's, backends included.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import type { BenchServer } from './server';

const REPO = join(__dirname, '..', '..');
/** The processes whose CPU is the cluster's: its services, and PostgreSQL (the postmaster, whose children are its backends). */
const PARTS = ['frontend', 'history', 'matching', 'worker', 'postgres'] as const;
/** How often the bench checks that every part still runs. */
const ALIVE_CHECK_MS = 2_000;

const run = promisify(execFile);

/** Starts the cluster in a fresh run folder; resolves once it answers, with its parts' pids. */
export async function startClusterServer(): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cluster-'));
  // Run as root, PostgreSQL runs as its own user, which must reach its data folder inside this one.
  chmodSync(dir, 0o755);
  const cluster = (...args: string[]) =>
    run(join(REPO, 'temporal-dev.sh'), ['cluster', ...args], {
      cwd: REPO,
      env: { ...process.env, TEMPORAL_CLUSTER_DIR: dir },
      maxBuffer: 16 * 1024 * 1024,
    });
  const down = async () => {
    await cluster('down').catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Its last line is the frontend's address; the first `up` on a machine builds the server (minutes).
    const address = (await cluster('up')).stdout.trim().split('\n').at(-1)!;
    const pids = await Promise.all(PARTS.map(async (part) => Number((await cluster('pid', part)).stdout.trim())));
    const connection = await Connection.connect({ address });
    let stopping = false;
    let timer: NodeJS.Timeout | undefined;
    const died = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        const gone = PARTS.filter((_part, index) => !alive(pids[index]));
        if (gone.length && !stopping) reject(new Error(`the cluster's ${gone.join(', ')} exited during the bench`));
      }, ALIVE_CHECK_MS);
    });
    died.catch(() => undefined);
    return {
      address,
      pid: pids[0],
      pids,
      what: `Temporal cluster (frontend, history, matching, worker; PostgreSQL and its backends) ${pids.join(', ')}`,
      client: new Client({ connection }),
      died,
      async stop() {
        stopping = true;
        clearInterval(timer);
        await connection.close();
        await down();
      },
    };
  } catch (error) {
    await down();
    throw error;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

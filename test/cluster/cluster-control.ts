/**
 * The cluster test's hold on its own local cluster (`./temporal-dev.sh cluster`, in a run folder of
 * its own, on ports of its own): bring it up, find a part's pid, SIGKILL a part and start it again,
 * restart PostgreSQL, and take it all down.
 */
import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO = join(__dirname, '..', '..');
const run = promisify(execFile);

/** The parts `cluster.sh` runs. */
export type ClusterPart = 'postgres' | 'frontend' | 'history' | 'matching' | 'worker' | 'ui';

/** True if nothing listens on 127.0.0.1:`port` (we could bind it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A port P such that P..P+9 (the cluster's services and PostgreSQL) and P+1000 (its Web UI) are free,
 * below 32760: Temporal's PostgreSQL schema stores the services' ports as smallint.
 */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    const ports = [...Array.from({ length: 10 }, (_, i) => base + i), base + 1000];
    let free = true;
    for (const port of ports) if (!(free = await portFree(port))) break;
    if (free) return base;
  }
  throw new Error('found no 10 consecutive free ports for the cluster');
}

export class LocalCluster {
  /** The frontend's address, once `up` printed it. */
  address = '';

  constructor(
    /** The run folder (TEMPORAL_CLUSTER_DIR). */
    readonly dir: string,
    readonly port: number,
  ) {}

  /** `./temporal-dev.sh cluster <args>` for this cluster; its output, or an error with it. */
  async command(args: string[], timeoutMs = 180_000): Promise<{ stdout: string; stderr: string }> {
    const env = {
      ...process.env,
      TEMPORAL_CLUSTER_DIR: this.dir,
      TEMPORAL_CLUSTER_PORT: String(this.port),
      // Services that cannot reach their store say so at warn; the test keeps their logs.
      TEMPORAL_CLUSTER_LOG_LEVEL: process.env.TEMPORAL_CLUSTER_LOG_LEVEL ?? 'warn',
    };
    try {
      return await run(join(REPO, 'temporal-dev.sh'), ['cluster', ...args], { cwd: REPO, env, timeout: timeoutMs });
    } catch (error) {
      const failed = error as Error & { code?: number | string; stderr?: string };
      const said = (failed.stderr ?? failed.message).trim().split('\n').slice(-12).join('\n');
      throw new Error(`./temporal-dev.sh cluster ${args.join(' ')} failed (${failed.code}):\n${said}`, {
        cause: error,
      });
    }
  }

  /** Brings the cluster up (building the server first if it is not cached: up to 20 minutes). */
  async up(): Promise<string> {
    const { stdout } = await this.command(['up'], 40 * 60_000);
    this.address = stdout.trim().split('\n').at(-1)!;
    return this.address;
  }

  async down(): Promise<void> {
    await this.command(['down']);
  }

  async pid(part: ClusterPart): Promise<number> {
    const { stdout } = await this.command(['pid', part]);
    return Number(stdout.trim());
  }

  /** SIGKILLs `part`'s process group (a service: the process alone). */
  async kill(part: ClusterPart): Promise<number> {
    const pid = await this.pid(part);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
    // Gone once the pid no longer names a live process of that part.
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        const { stdout } = await run('ps', ['-o', 'stat=', '-p', String(pid)]);
        if (stdout.trim().startsWith('Z')) break;
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return pid;
  }

  /** Stops `part` (if it runs) and starts it again; resolves once it answers. */
  async restart(part: ClusterPart): Promise<void> {
    await this.command(['restart', part]);
  }

  /** `status` as it prints it (exit code 3, some part stopped, included). */
  async status(): Promise<string> {
    try {
      return (await this.command(['status'])).stdout;
    } catch (error) {
      return (error as Error).message;
    }
  }
}

/**
 * The cluster test's worker fleet by role, as deploy/ runs it (WORKER_ROLE): workflows workers run
 * the runs, model workers the model calls, tools workers the tool calls. A worker the test kills is
 * replaced by a new one of its role; one that exits on its own is a failure (recorded) and replaced too.
 */
import { spawnWorker, waitUntilPolling, type WorkerProcess } from '../support/worker-process';

export type Role = 'workflows' | 'model' | 'tools';

export interface FleetWorker extends WorkerProcess {
  role: Role;
}

export class Fleet {
  readonly workers: FleetWorker[] = [];
  readonly unplannedExits: string[] = [];
  private readonly killed = new Set<FleetWorker>();
  private stopping = false;

  constructor(
    private readonly env: Record<string, string>,
    private readonly log: (line: string) => void,
  ) {}

  /** The live workers of `role`. */
  of(role: Role): FleetWorker[] {
    return this.workers.filter(
      (worker) => worker.role === role && worker.child.exitCode === null && worker.child.signalCode === null,
    );
  }

  /** Starts a worker of `role` and resolves once it polls. */
  async start(role: Role): Promise<FleetWorker> {
    const worker: FleetWorker = { ...spawnWorker({ ...this.env, WORKER_ROLE: role }), role };
    this.workers.push(worker);
    void worker.exited.then(async (how) => {
      if (this.killed.has(worker) || this.stopping) return;
      const line = `${role} worker pid ${worker.child.pid} exited on its own (${how})`;
      this.unplannedExits.push(`${line}\n${worker.output().trim().split('\n').slice(-5).join('\n')}`);
      this.log(`${line}; starting another`);
      await this.start(role).catch((error: Error) => this.log(error.message));
    });
    await waitUntilPolling(worker, 120_000);
    return worker;
  }

  /** SIGKILLs `worker` and starts another of its role; resolves with when the new one polls. */
  async killAndReplace(worker: FleetWorker): Promise<{ replacement: FleetWorker; readyAt: number }> {
    this.killed.add(worker);
    worker.child.kill('SIGKILL');
    await worker.exited;
    const replacement = await this.start(worker.role);
    return { replacement, readyAt: Date.now() };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const worker of this.workers)
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(this.workers.map((worker) => worker.exited));
  }
}

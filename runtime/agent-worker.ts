/**
 * The Temporal workers of one worker process: one for each task queue its role polls
 * (`WORKER_ROLE`). They run, drain and stop together.
 */
import type { State, Worker } from '@temporalio/worker';
import type { WorkerRole } from '../src/config';

/** One task queue a process polls, and what for. */
export interface RoleWorker {
  role: Exclude<WorkerRole, 'all'>;
  taskQueue: string;
  worker: Worker;
  /** A worker of every role that keeps calls on TASK_QUEUE still serves this role's queue for runs that recorded it. */
  forEarlierRuns?: true;
}

export class AgentWorker {
  /** `afterStop`: what the process holds for its calls (MCP servers' processes and sessions), released once all stopped. */
  constructor(
    readonly workers: readonly RoleWorker[],
    private readonly afterStop: () => Promise<void> = async () => undefined,
  ) {}

  /** Runs every worker until all have stopped; when one fails, stops the others and throws its error. */
  async run(): Promise<void> {
    const runs = this.workers.map(({ worker }) => worker.run());
    try {
      await Promise.all(runs);
    } catch (error) {
      this.shutdown();
      await Promise.allSettled(runs);
      throw error;
    } finally {
      await this.afterStop();
    }
  }

  /** Stops polling; the calls in flight get the shutdown grace time (`SHUTDOWN_GRACE_SECONDS`) to finish. */
  shutdown(): void {
    for (const { worker } of this.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  }

  /** `RUNNING` while every worker polls, else the first other state. */
  getState(): State {
    return this.workers.map(({ worker }) => worker.getState()).find((state) => state !== 'RUNNING') ?? 'RUNNING';
  }
}

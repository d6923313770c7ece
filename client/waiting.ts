/**
 * What a caller waiting on a run is told, so that no wait is silent: that no worker polls the run's
 * task queue (or none answers it), that one does again, and which tool calls await approval.
 */
import type { AgentRunState, PendingApproval } from '../src/types';
import type { LiveDescription } from './calls-in-flight';

/** Whether live workers poll a task queue, for workflow tasks and for activities. */
export interface TaskQueueWorkers {
  taskQueue: string;
  workflow: boolean;
  activity: boolean;
}

export type WaitNotice =
  /** No live worker polls the run's task queue (for `missing` kinds of task): the wait goes on. */
  | { type: 'no_worker'; taskQueue: string; missing: ('workflow' | 'activity')[] }
  /**
   * A worker is listed on the task queue but none answered the run within `waitedMs`: it may have
   * stopped (the server lists a worker for a minute or more after its last poll).
   */
  | { type: 'no_answer'; taskQueue: string; waitedMs: number }
  /** A worker polls (and answers) again after a `no_worker` or `no_answer` notice. */
  | { type: 'worker_found'; taskQueue: string }
  /** The run waits for a person: these tool calls await approval (each is told once). */
  | { type: 'awaiting_approval'; workflowId: string; pendingApprovals: PendingApproval[] };

export interface WaitOptions {
  /** Called on each change while the call waits; without it the call waits as before, silently. */
  onWait?: (notice: WaitNotice) => void;
  /**
   * Called on each check with what the run does now: its calls in flight (from `describe()`) and its
   * state (undefined while no worker answers), for a live line (`cli/live-line.ts`).
   */
  onLive?: (description: LiveDescription, state: AgentRunState | undefined) => void;
  /** How often to look at the task queue and the run's state (default 1 s). */
  checkEveryMs?: number;
}

/**
 * Turns what each check saw into notices, telling only changes: the workers of the run's task queue,
 * whether the run answered its query, and the approvals it awaits.
 */
export class WaitTeller {
  private said = '';
  /** A check saw workers polling for one kind of task only: told if the next check sees it too. */
  private halfSeen = '';
  private readonly toldApprovals = new Set<string>();

  constructor(
    private readonly workflowId: string,
    private readonly taskQueue: string,
    private readonly tell: (notice: WaitNotice) => void,
  ) {}

  /**
   * One check: `workers` as listed (undefined if the check failed: nothing is told), and whether the
   * run answered within `waitedMs` (asked only when a worker polls for workflow tasks).
   */
  saw(workers: TaskQueueWorkers | undefined, answered: boolean, waitedMs: number): void {
    if (!workers) return;
    const { taskQueue } = this;
    const missing = (['workflow', 'activity'] as const).filter((kind) => !workers[kind]);
    const now = missing.length ? `missing:${missing.join()}` : answered ? '' : 'unanswered';
    if (now === this.said) return;
    // A worker starting up polls for workflow tasks a moment before activities (or the other way):
    // half a worker is told only when a second check still sees it.
    const partial = missing.length === 1;
    if (partial && this.halfSeen !== now) {
      this.halfSeen = now;
      return;
    }
    this.halfSeen = '';
    if (missing.length) this.tell({ type: 'no_worker', taskQueue, missing });
    else if (!answered) this.tell({ type: 'no_answer', taskQueue, waitedMs });
    else this.tell({ type: 'worker_found', taskQueue });
    this.said = now;
  }

  /** The approvals the run awaits: each one not told before is told now. */
  awaiting(pendingApprovals: PendingApproval[]): void {
    const fresh = pendingApprovals.filter((approval) => !this.toldApprovals.has(approval.callId));
    if (!fresh.length) return;
    for (const approval of fresh) this.toldApprovals.add(approval.callId);
    this.tell({ type: 'awaiting_approval', workflowId: this.workflowId, pendingApprovals: fresh });
  }
}

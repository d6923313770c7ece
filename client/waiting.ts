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
   * A worker is listed on the task queue but the run has not answered for `waitedMs` (at least
   * `NO_ANSWER_TELL_MS`): it may be busy, or have stopped (the server lists a worker for a minute or
   * more after its last poll).
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
 * How long a run may go unanswered while a worker polls its queue before a wait says so: a worker on
 * a loaded machine answers late (seconds), and is not to be called stopped for it.
 */
export const NO_ANSWER_TELL_MS = 10_000;

/**
 * Turns what each check saw into notices, telling only changes: the workers of the run's task queue,
 * whether the run answered its query (unanswered said only once it lasts), and the approvals it awaits.
 */
export class WaitTeller {
  private said = '';
  /** A check saw workers polling for one kind of task only: told if the next check sees it too. */
  private halfSeen = '';
  /** When the first of the unanswered checks in a row began. */
  private unansweredSince: number | undefined;
  private readonly toldApprovals = new Set<string>();

  constructor(
    private readonly workflowId: string,
    private readonly taskQueue: string,
    private readonly tell: (notice: WaitNotice) => void,
  ) {}

  /**
   * One check, ending `now`: `workers` as listed (undefined if the check failed: nothing is told), and
   * whether the run answered its query within `queryTimeoutMs` (asked only when a worker polls for
   * workflow tasks). Unanswered is told once the run has not answered for `NO_ANSWER_TELL_MS`.
   */
  saw(workers: TaskQueueWorkers | undefined, answered: boolean, queryTimeoutMs: number, now = Date.now()): void {
    if (!workers) return;
    const { taskQueue } = this;
    const missing = (['workflow', 'activity'] as const).filter((kind) => !workers[kind]);
    const unanswered = !missing.length && !answered;
    if (!unanswered) this.unansweredSince = undefined;
    else this.unansweredSince ??= now - queryTimeoutMs;
    const waitedMs = unanswered ? now - this.unansweredSince! : 0;
    // Not answered yet is a slow worker, not a missing one: nothing changes until it lasts.
    const current = missing.length
      ? `missing:${missing.join()}`
      : unanswered && waitedMs >= NO_ANSWER_TELL_MS
        ? 'unanswered'
        : unanswered
          ? this.said
          : '';
    if (current === this.said) return;
    // A worker starting up polls for workflow tasks a moment before activities (or the other way):
    // half a worker is told only when a second check still sees it.
    const partial = missing.length === 1;
    if (partial && this.halfSeen !== current) {
      this.halfSeen = current;
      return;
    }
    this.halfSeen = '';
    if (missing.length) this.tell({ type: 'no_worker', taskQueue, missing });
    else if (unanswered) this.tell({ type: 'no_answer', taskQueue, waitedMs: Math.round(waitedMs / 1_000) * 1_000 });
    else this.tell({ type: 'worker_found', taskQueue });
    this.said = current;
  }

  /** The approvals the run awaits: each one not told before is told now. */
  awaiting(pendingApprovals: PendingApproval[]): void {
    const fresh = pendingApprovals.filter((approval) => !this.toldApprovals.has(approval.callId));
    if (!fresh.length) return;
    for (const approval of fresh) this.toldApprovals.add(approval.callId);
    this.tell({ type: 'awaiting_approval', workflowId: this.workflowId, pendingApprovals: fresh });
  }
}

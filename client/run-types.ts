/**
 * The shapes `AgentClient` answers with: a run in a list, a run's report (what `status` shows) and
 * why a run closed without a result. In a module of their own, so that the client's modules (the run
 * stream, the report's parts) share them without importing the client.
 */
import type { AgentRunResult, AgentRunState, FinalStatus, RunStatus, Usage } from '../src/types';
import type { ApprovalRecord } from './approval-records';
import type { CallInFlight } from './calls-in-flight';
import type { StepUsage } from './history-transcript';
import type { TaskQueueWorkers } from './waiting';

export interface RunSummary {
  workflowId: string;
  status: RunStatus | string;
  agent?: string;
  user?: string;
  steps?: number;
  tokens?: number;
  costUsd?: number;
  startTime: Date;
  closed: boolean;
}

/** Why a run closed without a result. */
export interface RunFailure {
  /** The ApplicationFailure type a failed run ended with (`ModelAuthError`, ...), if it had one. */
  type?: string;
  /** The failure's own message. */
  message: string;
  /** The one line `result()` throws for this run: `run ID failed with T: ...`, `run ID was cancelled`. */
  error: string;
}

/**
 * A run as `status` shows it. While it is open and a worker answers, `state` is the run's own state
 * (the `state` query); once it has closed, or while no worker answers for it, the report is what
 * Temporal holds without a worker: the search attributes the run kept current and, for a closed run,
 * how it ended (its result, or its failure).
 */
export interface RunReport {
  workflowId: string;
  /** The run's own status; Temporal's (`terminated`, `timed_out`) for a run that ended without running code of its own. */
  status: RunStatus | string;
  closed: boolean;
  taskQueue: string;
  agent?: string;
  userId?: string;
  step?: number;
  tokens?: number;
  costUsd?: number;
  usage?: Usage;
  startTime: Date;
  closeTime?: Date;
  /** The run's state, from the run itself: set while it is open and a worker answers for it. */
  state?: AgentRunState;
  /** A closed run's result (`completed`, `limit_reached`, `stuck`). */
  result?: AgentRunResult;
  /** A closed run's failure (`failed`, `cancelled`, `terminated`, `timed_out`). */
  failure?: RunFailure;
  /** An open run's activities in flight (model calls, tools), with the attempt and last error of one being retried. */
  callsInFlight?: CallInFlight[];
  /** Per model call: step, model, tokens, cost and latency, read from history as `transcript` reads them. */
  stepUsage?: StepUsage[];
  /** Every decision on a call that awaited approval (who, where, when, the note and any edit), from history. */
  approvals?: ApprovalRecord[];
  /**
   * Set when the run is open and no worker answered for it (none polls its task queue, or none
   * answered within 2 s): the report is what the run last recorded.
   */
  noWorker?: TaskQueueWorkers;
}

/**
 * The result of a run of an agent whose output is `Output`: a completed run's `output` is always the
 * object; a run a budget or a stuck loop ended may have only the text saying why (and `outputError`).
 */
export type TypedRunResult<Output> =
  | (AgentRunResult<Output> & { status: typeof RunStatus.completed })
  | (AgentRunResult<Output | string> & { status: Exclude<FinalStatus, typeof RunStatus.completed> });

export interface ConnectOptions {
  /** How long to wait for the server's first answer (default 5 s); a refused connection fails at once. */
  connectTimeoutMs?: number;
}

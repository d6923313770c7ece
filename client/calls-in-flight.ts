/**
 * A run's activities in flight (model calls, tools, summaries), read from `describe()`: what each is,
 * which attempt runs, since when, and why the last attempt failed. `AgentClient.report` lists them,
 * the run stream says when one is retried, and the CLI's live line shows them.
 */
import { temporal } from '@temporalio/proto';

type DescribeResponse = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;
type Failure = temporal.api.failure.v1.IFailure;

/** An activity of the run in flight (a model call, a tool, ...), as `describe()` reports it. */
export interface CallInFlight {
  activityId: string;
  /** Its activity type: `callModel`, `runTool`, `summarizeConversation`, ... */
  type: string;
  /** Its summary, as the Web UI shows it (`model gpt-4o-mini · step 3`, `tool lookup_order`), where known. */
  summary?: string;
  /** The attempt running, or next to run (1 for the first). */
  attempt: number;
  /** The attempts its retry policy allows; 0 for no limit. */
  maximumAttempts: number;
  /** Whether a worker runs an attempt now; if not, the call waits for a worker or for its next attempt. */
  running: boolean;
  /**
   * Since when, in ms since the epoch: the running attempt's start, or since when the call waits for a
   * worker (it was scheduled, or its next attempt was due).
   */
  sinceMs: number;
  /** Why its last attempt failed: set once an attempt has failed and the call is retried. */
  lastFailure?: { type?: string; message: string };
}

/** What `describe()` says about a run, for its live line. */
export interface LiveDescription {
  workflowId: string;
  calls: CallInFlight[];
}

/** How long the last error may run on in a line: it is a provider's message, and the line is one line. */
const ERROR_CHARS = 160;

function timestampMs(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  return timestamp ? Number(timestamp.seconds ?? 0) * 1_000 + Math.floor((timestamp.nanos ?? 0) / 1e6) : undefined;
}

/** The type and message of the ApplicationFailure in a failure chain, or the innermost failure's message. */
function failureOf(failure: Failure): { type?: string; message: string } {
  let current = failure;
  while (!current.applicationFailureInfo && current.cause) current = current.cause;
  const type = current.applicationFailureInfo?.type || undefined;
  return { ...(type && { type }), message: current.message ?? '' };
}

/** The calls in flight of a described run; `summaries` are the activities' summaries by activity id. */
export function callsInFlight(
  response: DescribeResponse,
  summaries: ReadonlyMap<string, string> = new Map(),
): CallInFlight[] {
  const { PENDING_ACTIVITY_STATE_STARTED } = temporal.api.enums.v1.PendingActivityState;
  return (response.pendingActivities ?? []).map((pending) => {
    const activityId = pending.activityId ?? '';
    const running = pending.state === PENDING_ACTIVITY_STATE_STARTED;
    // A call not running waits for a worker since it was scheduled, or since its next attempt was due.
    const takeableMs = Math.max(
      timestampMs(pending.scheduledTime) ?? 0,
      timestampMs(pending.nextAttemptScheduleTime) ?? 0,
    );
    const sinceMs = (running ? timestampMs(pending.lastStartedTime) : undefined) ?? takeableMs;
    const summary = summaries.get(activityId);
    return {
      activityId,
      type: pending.activityType?.name ?? '',
      ...(summary && { summary }),
      attempt: pending.attempt || 1,
      maximumAttempts: pending.maximumAttempts ?? 0,
      running,
      sinceMs,
      ...(pending.lastFailure && { lastFailure: failureOf(pending.lastFailure) }),
    };
  });
}

/** `attempt 3 of 5, last error: ModelUnavailable: ...` for a call that is being retried. */
export function retrying(call: CallInFlight): string | undefined {
  if (!call.lastFailure || call.attempt < 2) return undefined;
  const { type, message } = call.lastFailure;
  const oneLine = message.replace(/\s+/g, ' ').trim();
  const bounded = oneLine.length > ERROR_CHARS ? `${oneLine.slice(0, ERROR_CHARS - 1)}…` : oneLine;
  const of = call.maximumAttempts ? ` of ${call.maximumAttempts}` : '';
  return `attempt ${call.attempt}${of}, last error: ${type ? `${type}: ` : ''}${bounded}`;
}

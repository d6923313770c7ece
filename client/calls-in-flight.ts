/**
 * A run's activities in flight (model calls, tools, summaries), read from `describe()`: what each is,
 * which attempt runs, since when, on which task queue (and, for one no worker runs, whether a worker
 * polls that queue), and why the last attempt failed (a worker that stopped mid-call said as such).
 * `AgentClient.report` lists them, the run stream says when one is retried or waits, and the CLI's
 * live line shows them: one reading for all three.
 */
import { temporal } from '@temporalio/proto';
import { pacingNoticeSchema, type PacingNotice } from '../src/pacing-notice';

type DescribeResponse = temporal.api.workflowservice.v1.IDescribeWorkflowExecutionResponse;
type Failure = temporal.api.failure.v1.IFailure;
type Payload = temporal.api.common.v1.IPayload;
type PendingActivity = temporal.api.workflow.v1.IPendingActivityInfo;

/** What a model call waits for before its request, and until when (its heartbeat says: src/pacing-notice.ts). */
export type CallPacing = PacingNotice['pacing'];

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
  /** The run asked to cancel it (the run is being cancelled): a running call stops once its worker hears of it. */
  cancelRequested?: true;
  /**
   * Since when, in ms since the epoch: the running attempt's start, or since when the call waits for a
   * worker (it was scheduled, or its next attempt was due).
   */
  sinceMs: number;
  /**
   * Why its last attempt failed: set once an attempt has failed and the call is retried. `workerLost`:
   * its worker stopped answering mid-call (the heartbeat timeout passed), said instead of the timeout.
   */
  lastFailure?: { type?: string; message: string; workerLost?: true };
  /** The task queue it is scheduled on (`agents-tools`), where the server says (`activityOptions`). */
  taskQueue?: string;
  /** For a call no worker runs now: whether a live worker polls its task queue (undefined: not known). */
  polled?: boolean;
  /** The identity of the worker that stopped mid-call (`workerLost`): the server may list it polling for a while. */
  lostWorker?: string;
  /** A running model call that waits for a rate limit before its request: which, and until when. */
  pacing?: CallPacing;
}

/** What `describe()` says about a run, for its live line. */
export interface LiveDescription {
  workflowId: string;
  calls: CallInFlight[];
  /** The run's own task queue: a call scheduled there waits for any worker, not one of a role. */
  taskQueue?: string;
}

/** How long the last error may run on in a line: it is a provider's message, and the line is one line. */
const ERROR_CHARS = 160;

function timestampMs(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): number | undefined {
  return timestamp ? Number(timestamp.seconds ?? 0) * 1_000 + Math.floor((timestamp.nanos ?? 0) / 1e6) : undefined;
}

const { TIMEOUT_TYPE_HEARTBEAT } = temporal.api.enums.v1.TimeoutType;

/**
 * The type and message of the ApplicationFailure in a failure chain, or the innermost failure's
 * message; a heartbeat timeout as what it means: the worker running the call stopped answering.
 */
function failureOf(failure: Failure, heartbeatSeconds: number | undefined): CallInFlight['lastFailure'] {
  let current = failure;
  while (!current.applicationFailureInfo && !current.timeoutFailureInfo && current.cause) current = current.cause;
  if (current.timeoutFailureInfo?.timeoutType === TIMEOUT_TYPE_HEARTBEAT) {
    const within = heartbeatSeconds ? ` within ${heartbeatSeconds} s` : '';
    return { message: `its worker stopped mid-call (no heartbeat${within})`, workerLost: true };
  }
  const type = current.applicationFailureInfo?.type || undefined;
  return { ...(type && { type }), message: current.message ?? '' };
}

/**
 * The pacing the running calls of a described run report in their heartbeat details, by activity id:
 * details a worker sent, decoded with `decode` (the client's converter and codecs) and checked; details
 * that say anything else (a streamed answer's text) or cannot be read are no pacing.
 */
export async function pacingOf(
  response: DescribeResponse,
  decode: (payload: Payload) => Promise<unknown>,
): Promise<Map<string, CallPacing>> {
  const paced = new Map<string, CallPacing>();
  for (const pending of response.pendingActivities ?? []) {
    const [details] = pending.heartbeatDetails?.payloads ?? [];
    if (!details) continue;
    const parsed = pacingNoticeSchema.safeParse(await decode(details).catch(() => undefined));
    if (parsed.success) paced.set(pending.activityId ?? '', parsed.data.pacing);
  }
  return paced;
}

const { PENDING_ACTIVITY_STATE_STARTED, PENDING_ACTIVITY_STATE_CANCEL_REQUESTED } =
  temporal.api.enums.v1.PendingActivityState;

/**
 * Whether a worker took the activity's attempt (the server says when, or which worker). The server
 * says `CANCEL_REQUESTED` whether a worker took it or not, and one a worker took still runs until
 * that worker hears of the cancel and stops. A time the server left unset may read as before 1970.
 */
function workerTook(pending: PendingActivity): boolean {
  return (timestampMs(pending.lastStartedTime) ?? 0) > 0 || Boolean(pending.lastWorkerIdentity);
}

/**
 * The calls in flight of a described run; `summaries` are the activities' summaries by activity id,
 * `pacing` what running ones wait for (`pacingOf`).
 */
export function callsInFlight(
  response: DescribeResponse,
  summaries: ReadonlyMap<string, string> = new Map(),
  pacing: ReadonlyMap<string, CallPacing> = new Map(),
): CallInFlight[] {
  return (response.pendingActivities ?? []).map((pending) => {
    const activityId = pending.activityId ?? '';
    const cancelRequested = pending.state === PENDING_ACTIVITY_STATE_CANCEL_REQUESTED;
    const running = pending.state === PENDING_ACTIVITY_STATE_STARTED || (cancelRequested && workerTook(pending));
    // A call not running waits for a worker since it was scheduled, or since its next attempt was due.
    const takeableMs = Math.max(
      timestampMs(pending.scheduledTime) ?? 0,
      timestampMs(pending.nextAttemptScheduleTime) ?? 0,
    );
    const sinceMs = (running ? timestampMs(pending.lastStartedTime) : undefined) ?? takeableMs;
    const summary = summaries.get(activityId);
    const taskQueue = pending.activityOptions?.taskQueue?.name || undefined;
    const heartbeatSeconds = Number(pending.activityOptions?.heartbeatTimeout?.seconds ?? 0) || undefined;
    const lastFailure = pending.lastFailure ? failureOf(pending.lastFailure, heartbeatSeconds) : undefined;
    const paced = running ? pacing.get(activityId) : undefined;
    return {
      activityId,
      type: pending.activityType?.name ?? '',
      ...(summary && { summary }),
      attempt: pending.attempt || 1,
      maximumAttempts: pending.maximumAttempts ?? 0,
      running,
      ...(cancelRequested && { cancelRequested }),
      sinceMs,
      ...(lastFailure && { lastFailure }),
      ...(taskQueue && { taskQueue }),
      ...(lastFailure?.workerLost && pending.lastWorkerIdentity && { lostWorker: pending.lastWorkerIdentity }),
      ...(paced && { pacing: paced }),
    };
  });
}

/** Whether a live worker polls `taskQueue` for activities, `except` the worker of that identity. */
export type QueuePolled = (taskQueue: string, except?: string) => Promise<boolean>;

/**
 * `calls`, each that no worker runs now marked with whether a live worker polls its task queue
 * (`polled`, asked once per queue; a check that fails leaves it unknown). The worker a call lost is
 * not counted: the server lists a worker for a minute after its last poll, dead or not.
 */
export async function withQueueWorkers(calls: CallInFlight[], polled: QueuePolled): Promise<CallInFlight[]> {
  const asked = new Map<string, Promise<boolean | undefined>>();
  const ask = (taskQueue: string, except?: string) => {
    const key = `${taskQueue}\n${except ?? ''}`;
    if (!asked.has(key))
      asked.set(
        key,
        polled(taskQueue, except).catch(() => undefined),
      );
    return asked.get(key)!;
  };
  return Promise.all(
    calls.map(async (call) => {
      if (call.running || !call.taskQueue) return call;
      const answer = await ask(call.taskQueue, call.lostWorker);
      return answer === undefined ? call : { ...call, polled: answer };
    }),
  );
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

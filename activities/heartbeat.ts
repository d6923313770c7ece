/**
 * Heartbeats on a timer for activities that wait (a model request, a tool's `execute`): the server
 * learns that a worker died within the heartbeat timeout, and a cancellation, which the server hands
 * out only in answer to a heartbeat, reaches the activity within the worker's heartbeat throttle.
 */
import type { Context } from '@temporalio/activity';

/**
 * The most time between two heartbeats handed to the SDK (which throttles what it sends on to the
 * server, at `HEARTBEAT_THROTTLE_MS`): a call that only waits sends one request a second.
 */
export const HEARTBEAT_EVERY_MS = 1_000;

/** How often an activity with heartbeat timeout `timeoutMs` heartbeats: well inside the timeout, at most every second. */
export function heartbeatInterval(timeoutMs: number | undefined): number {
  // An activity without a heartbeat timeout may see it as 0.
  if (!timeoutMs || timeoutMs <= 0) return HEARTBEAT_EVERY_MS;
  return Math.max(50, Math.min(HEARTBEAT_EVERY_MS, timeoutMs / 3));
}

/**
 * The least time between two hand-overs of an activity's own details to the SDK. A streaming model
 * call's details (its text so far) change with every chunk, and each hand-over converts (and
 * encrypts) them whole: a 64 KB answer in 16,000 chunks converted 513 MB, 2.5 s of CPU, for a server
 * that takes them every 250 ms at most.
 */
export const DETAILS_EVERY_MS = 100;

/**
 * A heartbeat loop for the current activity. `heartbeat` records the activity's own details, which
 * each beat repeats; `report` records a function that makes them, called only when a beat sends them
 * (for details that change faster than beats go out, such as a streaming answer's text).
 */
export interface Heartbeats {
  heartbeat(details?: unknown): void;
  report(details: () => unknown): void;
  stop(): void;
}

/**
 * Starts heartbeating for `context` until `stop()`. Each beat re-sends the details last given to
 * `heartbeat`, so the activity's own progress report is never replaced by an empty one; details go
 * out on the next turn of the event loop, or, given sooner than `DETAILS_EVERY_MS` after the last
 * beat, with the next beat, the latest of them only.
 */
export function startHeartbeats(context: Context): Heartbeats {
  // A local call cannot heartbeat (the worker would only warn of an unknown activity): it dies with its
  // worker, and its cancellation comes with the workflow task.
  if (context.info.isLocal) return { heartbeat: () => undefined, report: () => undefined, stop: () => undefined };
  let last: (() => unknown) | undefined;
  let beatAt = 0;
  let next: NodeJS.Timeout | undefined;
  const beat = () => {
    clearTimeout(next);
    next = undefined;
    beatAt = Date.now();
    if (last) context.heartbeat(last());
    else context.heartbeat();
  };
  const timer = setInterval(beat, heartbeatInterval(context.info.heartbeatTimeoutMs));
  const report = (details: () => unknown) => {
    last = details;
    // Even a beat that is due waits for the next turn of the event loop: a call whose answer came
    // whole (every chunk read at once) is over by then and sends none, one server request less a
    // call; its result carries the same text.
    next ??= setTimeout(beat, Math.max(0, beatAt + DETAILS_EVERY_MS - Date.now()));
  };
  return {
    heartbeat: (details) => report(() => details),
    report,
    stop: () => {
      clearInterval(timer);
      clearTimeout(next);
    },
  };
}

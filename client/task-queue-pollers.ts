/**
 * Who polls a task queue: whether a live worker (one the server saw within about a minute) takes its
 * workflow tasks and its activities. Needs no worker, so a caller can say why a run waits.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { withQueueWorkers, type CallInFlight } from './calls-in-flight';
import type { Call } from './temporal-calls';
import type { TaskQueueWorkers } from './waiting';

/**
 * A poller the server last saw longer ago than this has gone. An idle worker's long poll returns
 * empty and is renewed about every minute (53-58 s measured on the dev server), and the server lists
 * a worker that stopped for minutes afterwards, with the time of its last poll.
 */
const POLLER_SEEN_WITHIN_MS = 70_000;

const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/** Milliseconds since the epoch of a protobuf timestamp. */
function timestampMs(timestamp: { seconds?: unknown; nanos?: number | null }): number {
  return Number(timestamp.seconds ?? 0) * 1_000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

/** Whether live workers poll `taskQueue`, for workflow tasks and for activities. */
export async function taskQueueWorkers(client: Client, call: Call, taskQueue: string): Promise<TaskQueueWorkers> {
  const [workflow, activity] = await call(() =>
    Promise.all([
      polled(client, taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
      polled(client, taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ]),
  );
  return { taskQueue, workflow, activity };
}

/** Whether a live worker but `except` (the identity of one a call lost) polls `taskQueue` for activities. */
export function activityPolled(client: Client, call: Call, taskQueue: string, except?: string): Promise<boolean> {
  return call(() => polled(client, taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, except));
}

/** `calls`, those no worker runs marked with whether a live worker polls their task queue. */
export function withWorkers(client: Client, call: Call, calls: CallInFlight[]): Promise<CallInFlight[]> {
  return withQueueWorkers(calls, (taskQueue, except) => activityPolled(client, call, taskQueue, except));
}

/** Whether a poller the server saw within about a minute, but `except`, polls `taskQueue` for that type of task. */
async function polled(
  client: Client,
  taskQueue: string,
  taskQueueType: temporal.api.enums.v1.TaskQueueType,
  except?: string,
): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType,
  });
  const now = Date.now();
  return (pollers ?? []).some(
    (poller) =>
      poller.identity !== except &&
      (!poller.lastAccessTime || now - timestampMs(poller.lastAccessTime) < POLLER_SEEN_WITHIN_MS),
  );
}

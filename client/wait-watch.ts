/**
 * Watching a run while a call waits on it (`result`, `chat`): each check (1 s) looks at who polls the
 * run's task queue, asks the run its state and reads its calls in flight, and tells the caller what
 * changed (`WaitTeller`) and what the run does now. A check that fails ends the telling, never the wait.
 */
import type { Client } from '@temporalio/client';
import { ActivitySummaries } from './activity-summaries';
import { historyPayloadDecoder } from '../src/history-payloads';
import { callsInFlight, pacingOf, type LiveDescription } from './calls-in-flight';
import { QUERY_TIMEOUT_MS, queryWithin } from './run-state-query';
import { taskQueueWorkers, withWorkers } from './task-queue-pollers';
import { runHandle, type Call } from './temporal-calls';
import { WaitTeller, type WaitNotice, type WaitOptions } from './waiting';

const CHECK_EVERY_MS = 1_000;

/**
 * `waiting`, while telling `options.onWait` what it waits for: within a check (1 s) that no live
 * worker polls the run's task queue (and when one does again), and each tool call that comes to
 * await approval; and, each check, `options.onLive` what the run does now (its calls in flight and
 * its state). Checks that fail (a server that does not allow them) only end the telling.
 */
export async function whileWaiting<T>(
  client: Client,
  call: Call,
  workflowId: string,
  waiting: Promise<T>,
  options: WaitOptions,
): Promise<T> {
  const { onWait, onLive } = options;
  if (!onWait && !onLive) return waiting;
  let done = false;
  const finished = waiting.then(
    () => undefined,
    () => undefined,
  );
  const tell = (notice: WaitNotice) => {
    if (!done) onWait?.(notice);
  };
  const summaries = new ActivitySummaries(client);
  const checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
  const watching = (async () => {
    const { taskQueue } = await runHandle(client, workflowId).describe();
    const teller = new WaitTeller(workflowId, taskQueue, tell);
    while (!done) {
      const workers = await taskQueueWorkers(client, call, taskQueue);
      const state = workers.workflow ? await queryWithin(client, call, workflowId, QUERY_TIMEOUT_MS) : undefined;
      teller.saw(workers, !workers.workflow || state !== undefined, QUERY_TIMEOUT_MS);
      if (state) teller.awaiting(state.pendingApprovals);
      if (onLive) {
        const description = await liveDescription(client, call, workflowId, summaries);
        if (!done) onLive(description, state);
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, checkEveryMs)))]);
      clearTimeout(timer);
    }
  })();
  // A failed check ends the telling, never the wait.
  watching.catch(() => undefined);
  try {
    return await waiting;
  } finally {
    done = true;
  }
}

/**
 * What `describe()` says the run does now: its calls in flight, named by their summaries (read once
 * each), those no worker runs with whether a worker polls their queue: what `status` reads too.
 */
async function liveDescription(
  client: Client,
  call: Call,
  workflowId: string,
  summaries: ActivitySummaries,
): Promise<LiveDescription> {
  const { raw, runId, taskQueue } = await runHandle(client, workflowId).describe();
  const activityIds = (raw.pendingActivities ?? []).map((pending) => pending.activityId ?? '');
  const named = activityIds.length
    ? await summaries.of({ workflowId, runId }, activityIds).catch(() => new Map<string, string>())
    : new Map<string, string>();
  const pacing = await pacingOf(raw, historyPayloadDecoder(client.options.loadedDataConverter));
  return { workflowId, taskQueue, calls: await withWorkers(client, call, callsInFlight(raw, named, pacing)) };
}

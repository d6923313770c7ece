/**
 * A bench run's result, or why it has none. A run whose workflow task fails (a bundle that does not
 * load, a change that throws inside the workflow) is retried by Temporal without end, so waiting for
 * its result waits for good: past a deadline the bench fails instead, saying what the run's history
 * holds.
 */
import type { Workflow, WorkflowHandle, WorkflowResultType } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

/** Longer than any row's run takes here (a recovery run, the slowest, about 35 s). */
export const RUN_DEADLINE_MS = 180_000;

/** What `resultBy` answers for a run that had no result by its deadline. */
export const LATE = Symbol('late');

/** `handle`'s result, or `LATE` once `deadlineMs` passed without one. */
export async function resultBy<W extends Workflow>(
  handle: WorkflowHandle<W>,
  deadlineMs: number,
): Promise<WorkflowResultType<W> | typeof LATE> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => (timer = setTimeout(() => resolve(LATE), deadlineMs)));
  try {
    return await Promise.race([handle.result(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** `handle`'s result, or an error past `deadlineMs` that names the run's first workflow-task failure. */
export async function resultWithin<W extends Workflow>(
  handle: WorkflowHandle<W>,
  deadlineMs = RUN_DEADLINE_MS,
): Promise<WorkflowResultType<W>> {
  const outcome = await resultBy(handle, deadlineMs);
  if (outcome !== LATE) return outcome;
  throw new Error(
    `bench run ${handle.workflowId} did not end within ${deadlineMs / 1000} s: ${await whyStuck(handle)}`,
  );
}

async function whyStuck(handle: WorkflowHandle): Promise<string> {
  const events = (await handle.fetchHistory()).events ?? [];
  const failed = events.find((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
  const failure = failed?.workflowTaskFailedEventAttributes?.failure;
  if (failure) return `its workflow task failed: ${failure.message}`;
  return `no workflow task of it failed (${events.length} events so far): is its worker polling?`;
}

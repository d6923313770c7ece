/**
 * What a run's history shows a person in the Web UI, and what it sent its activities.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { callRecordsOf } from '../../src/recorded-calls';
import type { AgentSpec } from '../../src/types';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

async function summaries(handle: WorkflowHandle, pick: (event: HistoryEvent) => boolean): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? [])
    .filter(pick)
    .map((event) => event.userMetadata?.summary)
    .filter((summary) => summary !== null && summary !== undefined)
    .map((summary) => defaultPayloadConverter.fromPayload<string>(summary!));
}

/** The summaries of the run's activities, in the order they were scheduled. */
export const activitySummaries = (handle: WorkflowHandle) =>
  summaries(handle, (event) => Boolean(event.activityTaskScheduledEventAttributes));

/** The summaries of the run's timers, in the order they were started. */
export const timerSummaries = (handle: WorkflowHandle) =>
  summaries(handle, (event) => Boolean(event.timerStartedEventAttributes));

/** The inputs of the run's activities of `type`, in the order they were scheduled. */
export async function activityInputs<T>(handle: WorkflowHandle, type: string): Promise<T[]> {
  const { events } = await handle.fetchHistory();
  return (events ?? [])
    .map((event) => event.activityTaskScheduledEventAttributes)
    .filter((scheduled) => scheduled?.activityType?.name === type)
    .map((scheduled) => defaultPayloadConverter.fromPayload<T>(scheduled!.input!.payloads![0]));
}

/** The run's first argument, as its start event recorded it. */
export async function workflowInput<T>(handle: WorkflowHandle): Promise<T> {
  const { events } = await handle.fetchHistory();
  const started = events![0].workflowExecutionStartedEventAttributes!;
  return defaultPayloadConverter.fromPayload<T>(started.input!.payloads![0]);
}

/** The results of the run's completed activities of `type`, in the order they completed. */
export async function activityResults<T>(handle: WorkflowHandle, type: string): Promise<T[]> {
  const { events } = await handle.fetchHistory();
  const ofType = new Set(
    (events ?? [])
      .filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === type)
      .map((event) => String(event.eventId)),
  );
  return (events ?? [])
    .map((event) => event.activityTaskCompletedEventAttributes)
    .filter((completed) => completed && ofType.has(String(completed.scheduledEventId)))
    .map((completed) => defaultPayloadConverter.fromPayload<T>(completed!.result!.payloads![0]));
}

/** The spec the run recorded (the result of its first call, `resolveAgentSpec`, a local activity). */
export async function recordedSpec(handle: WorkflowHandle): Promise<AgentSpec> {
  const { events } = await handle.fetchHistory();
  const decode = async (payload: object) => defaultPayloadConverter.fromPayload(payload);
  for (const event of events!) {
    const [, completed] = await callRecordsOf(event, decode, (type) => type === 'resolveAgentSpec');
    if (completed?.kind === 'completed') return (await completed.result()) as AgentSpec;
  }
  throw new Error('the run recorded no spec');
}

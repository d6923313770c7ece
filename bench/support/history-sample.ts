/** What a run costs in Temporal history: events and bytes, from `describe()` of finished runs, and what their events say. */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { countBillableActions } from './billable-actions';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export interface HistorySample {
  /** Runs described. */
  runs: number;
  /** Mean history events per run. */
  events: number;
  /** Mean history bytes per run. */
  bytes: number;
  /** Mean Temporal Cloud billable Actions per run, counted from the histories (billable-actions.ts). */
  actions: number;
  /** In the first run's history: activities scheduled on the task queue, and markers (local activities record one each). */
  activitiesScheduled: number;
  markers: number;
  /** The first run's events by type (`ACTIVITY_TASK_SCHEDULED`: 12, ...). */
  eventTypes: Record<string, number>;
  /**
   * Mean schedule-to-start of the sampled runs' activities and workflow tasks, in ms (the server's
   * event times): how long a task waited to reach the worker. Near 0 for activities dispatched eagerly.
   */
  activityScheduleToStartMs: number;
  workflowTaskScheduleToStartMs: number;
}

const millis = (event: HistoryEvent | undefined) =>
  event?.eventTime ? Number(event.eventTime.seconds ?? 0) * 1000 + (event.eventTime.nanos ?? 0) / 1e6 : NaN;

/** Schedule-to-start of every started task of `type` in `events` (its started event names its scheduled one). */
function scheduleToStart(events: HistoryEvent[], type: 'activity' | 'workflowTask'): number[] {
  const byId = new Map(events.map((event) => [Number(event.eventId), event]));
  return events.flatMap((event) => {
    const scheduledId =
      type === 'activity'
        ? event.activityTaskStartedEventAttributes?.scheduledEventId
        : event.workflowTaskStartedEventAttributes?.scheduledEventId;
    return scheduledId ? [millis(event) - millis(byId.get(Number(scheduledId)))] : [];
  });
}

const mean = (values: number[]) => values.reduce((total, value) => total + value, 0) / values.length;

/** History of `workflowIds` (finished runs), sizes from `describe()`, the rest from their events. */
export async function sampleHistory(client: Client, workflowIds: readonly string[]): Promise<HistorySample> {
  const described = await Promise.all(workflowIds.map((id) => client.workflow.getHandle(id).describe()));
  const histories = await Promise.all(
    workflowIds.map(async (id) => (await client.workflow.getHandle(id).fetchHistory()).events ?? []),
  );
  const [events] = histories;
  const count = (type: number) => events.filter((event) => event.eventType === type).length;
  const eventTypes: Record<string, number> = {};
  for (const { eventType } of events) {
    const name = (EventType[eventType ?? 0] ?? String(eventType)).replace(/^EVENT_TYPE_/, '');
    eventTypes[name] = (eventTypes[name] ?? 0) + 1;
  }
  return {
    runs: described.length,
    events: mean(described.map((run) => run.historyLength)),
    bytes: mean(described.map((run) => run.historySize ?? NaN)),
    actions: mean(histories.map(countBillableActions)),
    activitiesScheduled: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    markers: count(EventType.EVENT_TYPE_MARKER_RECORDED),
    eventTypes,
    activityScheduleToStartMs: mean(histories.flatMap((history) => scheduleToStart(history, 'activity'))),
    workflowTaskScheduleToStartMs: mean(histories.flatMap((history) => scheduleToStart(history, 'workflowTask'))),
  };
}

/** About `count` items spread evenly over `items` (first, last and between). */
export function spreadSample<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  return Array.from({ length: count }, (_, i) => items[Math.round((i * (items.length - 1)) / (count - 1))]);
}

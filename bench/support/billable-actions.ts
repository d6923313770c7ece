/**
 * Temporal Cloud's billable Actions of one run, counted from its event history, by the rule of
 * Temporal's "Temporal Cloud Actions" page (docs.temporal.io/cloud/actions) as far as a history shows
 * them:
 *
 * - a workflow started (client start, continue-as-new, child start): 1;
 * - an activity started: 1 per attempt (a history keeps only the last attempt's started event, whose
 *   `attempt` says how many there were);
 * - local activities: 1 per workflow task that recorded at least one (their markers name the task);
 * - a timer started, a signal received or sent, an update accepted, a search-attribute upsert, a
 *   child workflow or an external cancellation requested: 1 each;
 * - workflow tasks, completions, patch markers: none.
 *
 * Not in a history, so not counted: activity heartbeats (billed when they reach the server), queries,
 * and the start of a workflow that was rejected. The figure is a floor for runs that heartbeat.
 */
import { temporal } from '@temporalio/proto';

const { EventType } = temporal.api.enums.v1;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Marker name of local activities in the TypeScript SDK (sdk-core). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** Event types that are one Action each. */
const ONE_EACH = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_TIMER_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
  EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
  EventType.EVENT_TYPE_REQUEST_CANCEL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED,
]);

/** The billable Actions of one run's `events`, by the rule above. */
export function countBillableActions(events: readonly HistoryEvent[]): number {
  let actions = 0;
  const tasksWithLocalActivities = new Set<string>();
  for (const event of events) {
    const type = event.eventType ?? 0;
    if (ONE_EACH.has(type)) actions += 1;
    else if (type === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED)
      actions += Math.max(1, event.activityTaskStartedEventAttributes?.attempt ?? 1);
    else if (
      type === EventType.EVENT_TYPE_MARKER_RECORDED &&
      event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER
    )
      tasksWithLocalActivities.add(String(event.markerRecordedEventAttributes.workflowTaskCompletedEventId ?? ''));
  }
  return actions + tasksWithLocalActivities.size;
}

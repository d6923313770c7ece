/**
 * The summaries of a run's activities (`model gpt-4o-mini · step 3`, `tool lookup_order`), which
 * `describe()` does not report for pending activities: they are read from the activities' scheduled
 * events in history, newest first, once per activity.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { historyPayloadDecoder } from '../src/history-payloads';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** Events per page of history read newest first, and how many pages to read for a call at most. */
const PAGE_EVENTS = 25;
const MAX_PAGES = 4;

/** An activity's summary from its scheduled event, if it has one and it decodes (an encrypted one needs the keys). */
async function summaryOf(
  event: HistoryEvent,
  decode: (payload: Payload) => Promise<unknown>,
): Promise<string | undefined> {
  const payload = event.userMetadata?.summary;
  if (!payload) return undefined;
  const summary = await decode(payload).catch(() => undefined);
  return typeof summary === 'string' ? summary : undefined;
}

/** The summaries of the activities scheduled in `events`, by activity id. */
export async function summariesFromHistory(
  events: HistoryEvent[],
  decode: (payload: Payload) => Promise<unknown>,
): Promise<Map<string, string>> {
  const summaries = new Map<string, string>();
  for (const event of events) {
    const activityId = event.activityTaskScheduledEventAttributes?.activityId;
    if (!activityId) continue;
    const summary = await summaryOf(event, decode);
    if (summary) summaries.set(activityId, summary);
  }
  return summaries;
}

/**
 * Looks up activities' summaries in a run's history, newest events first, remembering each (and
 * each it could not find near the end of history) so that a caller checking every second reads
 * history only when a new activity is scheduled.
 */
export class ActivitySummaries {
  private readonly known = new Map<string, string | undefined>();
  private readonly decode: (payload: Payload) => Promise<unknown>;

  constructor(private readonly client: Client) {
    this.decode = historyPayloadDecoder(client.options.loadedDataConverter);
  }

  /** The summaries of `activityIds` in the run `execution`, by activity id (those that have one). */
  async of(execution: { workflowId: string; runId: string }, activityIds: string[]): Promise<Map<string, string>> {
    const key = (activityId: string) => `${execution.runId}/${activityId}`;
    const wanted = new Set(activityIds.filter((activityId) => !this.known.has(key(activityId))));
    let nextPageToken: Uint8Array | undefined;
    for (let page = 0; page < MAX_PAGES && wanted.size; page++) {
      const response = await this.client.workflowService.getWorkflowExecutionHistoryReverse({
        namespace: this.client.options.namespace,
        execution,
        maximumPageSize: PAGE_EVENTS,
        nextPageToken,
      });
      for (const event of response.history?.events ?? []) {
        const activityId = event.activityTaskScheduledEventAttributes?.activityId;
        if (!activityId || !wanted.has(activityId)) continue;
        wanted.delete(activityId);
        this.known.set(key(activityId), await summaryOf(event, this.decode));
      }
      nextPageToken = response.nextPageToken?.length ? response.nextPageToken : undefined;
      if (!nextPageToken) break;
    }
    // Scheduled too far back to look for every second: shown by its activity type instead.
    for (const activityId of wanted) this.known.set(key(activityId), undefined);
    const summaries = new Map<string, string>();
    for (const activityId of activityIds) {
      const summary = this.known.get(key(activityId));
      if (summary) summaries.set(activityId, summary);
    }
    return summaries;
  }
}

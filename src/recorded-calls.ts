/**
 * The activity calls a run's history records, in one shape whether they were regular or local. A
 * regular call is a scheduled event (its input) and later a completed event (its result); a local
 * call is one marker holding its result, which echoes the part of its input that readers need
 * (`activities/local-record.ts`). Read by `export` and by the worker rebuilding a transcript.
 */
import type { temporal } from '@temporalio/proto';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** The marker Temporal's core SDK records a local activity's outcome in. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** A call's input was recorded: at `timeMs` it was scheduled (a local call: it started). */
export interface CallScheduled {
  kind: 'scheduled';
  /** Pairs it with its completion. */
  id: string;
  type: string;
  input: unknown;
  timeMs: number;
}

/** A call completed at `timeMs`; its result is decoded on demand. */
export interface CallCompleted {
  kind: 'completed';
  id: string;
  result(): Promise<unknown>;
  timeMs: number;
}

export type CallRecord = CallScheduled | CallCompleted;

/** What a local call's result echoes of its input. */
interface LocalResult {
  recorded?: { durationMs?: number } & Record<string, unknown>;
}

/** Milliseconds since the epoch of a protobuf timestamp. */
export function timeMs(timestamp: { seconds?: unknown; nanos?: number | null } | null | undefined): number {
  return timestamp ? Number(timestamp.seconds ?? 0) * 1_000 + (timestamp.nanos ?? 0) / 1e6 : 0;
}

/**
 * The call records of one history `event` (none, one, or for a local call both), for calls whose
 * activity type `wanted` accepts. `decode` reads a payload through the reader's data converter.
 */
export async function callRecordsOf(
  event: HistoryEvent,
  decode: (payload: Payload) => Promise<unknown>,
  wanted: (type: string) => boolean,
): Promise<CallRecord[]> {
  const at = timeMs(event.eventTime);
  const scheduled = event.activityTaskScheduledEventAttributes;
  if (scheduled) {
    const type = scheduled.activityType?.name ?? '';
    if (!wanted(type)) return [];
    const input = await decode(scheduled.input!.payloads![0]);
    return [{ kind: 'scheduled', id: String(event.eventId), type, input, timeMs: at }];
  }
  const completed = event.activityTaskCompletedEventAttributes;
  if (completed) {
    const result = () => decode(completed.result!.payloads![0]);
    return [{ kind: 'completed', id: String(completed.scheduledEventId), result, timeMs: at }];
  }
  const marker = event.markerRecordedEventAttributes;
  const resultPayload = marker?.details?.result?.payloads?.[0];
  const dataPayload = marker?.details?.data?.payloads?.[0];
  if (marker?.markerName !== LOCAL_ACTIVITY_MARKER || !resultPayload || !dataPayload) return [];
  const data = (await decode(dataPayload)) as { activity_type?: string; seq?: number };
  const type = data.activity_type ?? '';
  if (!wanted(type)) return [];
  const result = (await decode(resultPayload)) as LocalResult;
  // A call that echoes nothing (the spec's resolution) recorded no input readers need.
  const { durationMs = 0, ...input } = result.recorded ?? {};
  const id = `local-${data.seq}`;
  return [
    { kind: 'scheduled', id, type, input, timeMs: at - durationMs },
    { kind: 'completed', id, result: async () => result, timeMs: at },
  ];
}

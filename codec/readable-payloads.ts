/**
 * The payload converter of workers (and their workflow bundle): Temporal's default, except that a
 * payload it cannot read (an encoding no converter knows, JSON that does not parse) becomes a value
 * that says so, instead of an exception. Thrown inside a workflow activation, that exception fails
 * the workflow task on every retry: one signal with `encoding: binary/foo` wedged its run for good.
 * As a value, it meets the checks every input, signal and update gets: the run's input fails it
 * `InvalidAgentInput`, a `message` signal is ignored (and logged), an update is rejected.
 */
import {
  defaultPayloadConverter,
  type Payload,
  type PayloadConverter,
  type SerializationContext,
} from '@temporalio/common';

/** What an unreadable payload reads as: no schema of the project accepts it. */
export interface UnreadablePayload {
  unreadablePayload: string;
}

/** At most this much of the payload's encoding (which whoever sent it chose) is repeated. */
const ENCODING_SHOWN = 64;

function unreadable(payload: Payload, error: unknown): UnreadablePayload {
  const encoding = payload.metadata?.encoding ? new TextDecoder().decode(payload.metadata.encoding) : '(none)';
  const why = error instanceof Error ? error.name : 'error';
  return { unreadablePayload: `encoding ${JSON.stringify(encoding.slice(0, ENCODING_SHOWN))} (${why})` };
}

class ReadablePayloadConverter implements PayloadConverter {
  toPayload<T>(value: T, context?: SerializationContext): Payload {
    return defaultPayloadConverter.toPayload(value, context);
  }

  fromPayload<T>(payload: Payload, context?: SerializationContext): T {
    try {
      return defaultPayloadConverter.fromPayload<T>(payload, context);
    } catch (error) {
      return unreadable(payload, error) as T;
    }
  }
}

export const payloadConverter: PayloadConverter = new ReadablePayloadConverter();

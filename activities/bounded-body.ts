/**
 * Every model endpoint's answer is read through one byte counter, so no endpoint can grow a worker's
 * memory without end (one that sent `application/json` without end once grew a worker to 10 GB).
 * A JSON body stops at the payload bound: nothing larger could be recorded as a call's result. A
 * stream of events is read event by event and each event is dropped once read, so what it holds is
 * one event: an event (the bytes up to a blank line) stops at the same bound, and the answer the
 * events assemble is bounded apart (`model-stream.ts`).
 */
import { ApplicationFailure } from '@temporalio/common';
import { Bounds } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';

/** What ends an event: a blank line, after LF, CR or CRLF line ends. */
const EVENT_ENDS = ['\n\n', '\r\r', '\r\n\r\n'].map((end) => Buffer.from(end));
const LONGEST_EVENT_END = 4;

/** The failure of an answer past its bound: not retried, since the same request gets the same answer. */
export function answerTooLarge(what: string, maxBytes: number): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({
      type: ErrorType.ModelBadResponse,
      message: `model answered off-spec: ${what} passed ${maxBytes} bytes`,
      nonRetryable: true,
    }),
  );
}

/**
 * Counts the bytes of the event being read from a server-sent event stream (those since the last
 * blank line), across chunk boundaries; past `maxBytes`, `add` throws.
 */
class EventSizeGuard {
  private eventBytes = 0;
  /** The last bytes before this chunk, where an event's end may have begun. */
  private tail = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  add(chunk: Uint8Array): void {
    const seen = Buffer.concat([this.tail, chunk]);
    const lastEnd = Math.max(
      ...EVENT_ENDS.map((end) => {
        const at = seen.lastIndexOf(end);
        return at < 0 ? -1 : at + end.length;
      }),
    );
    this.eventBytes = lastEnd < 0 ? this.eventBytes + chunk.byteLength : seen.length - lastEnd;
    this.tail = seen.subarray(Math.max(0, seen.length - (LONGEST_EVENT_END - 1)));
    if (this.eventBytes > this.maxBytes) throw answerTooLarge('one event of the answer stream', this.maxBytes);
  }
}

/** `body` read through `check`, which errors it (and cancels the rest) by throwing. */
function counted(body: ReadableStream<Uint8Array>, check: (chunk: Uint8Array) => void): ReadableStream<Uint8Array> {
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        try {
          check(chunk);
          controller.enqueue(chunk);
        } catch (error) {
          controller.error(error);
        }
      },
    }),
  );
}

/**
 * A `fetch` for the `openai` client whose responses' bodies are bounded: a JSON (or any other
 * non-event) body at `maxBytes`, an event stream at `maxBytes` per event.
 */
export function boundedFetch(maxBytes: number = Bounds.payloadBytes, inner: typeof fetch = fetch): typeof fetch {
  return async (input, init) => {
    const response = await inner(input, init);
    if (!response.body) return response;
    let check: (chunk: Uint8Array) => void;
    if (response.headers.get('content-type')?.includes('text/event-stream')) {
      const guard = new EventSizeGuard(maxBytes);
      check = (chunk) => guard.add(chunk);
    } else {
      let bytes = 0;
      check = (chunk) => {
        bytes += chunk.byteLength;
        if (bytes > maxBytes) throw answerTooLarge('the answer', maxBytes);
      };
    }
    return new Response(counted(response.body, check), {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
}

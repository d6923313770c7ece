/**
 * `boundedFetch`: every model answer read through a byte bound. A JSON body stops at the bound; an
 * event stream stops only when one event passes it, however long the stream, and wherever the
 * chunks split its line ends.
 */
import { ApplicationFailure } from '@temporalio/common';
import { boundedFetch } from '../../activities/bounded-body';
import { ErrorType } from '../../src/errors';

const encoder = new TextEncoder();

/** A `fetch` answering with `chunks` (strings) as the body, under `contentType`. */
function answering(chunks: string[], contentType: string): typeof fetch {
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
          controller.close();
        },
      }),
      { headers: { 'content-type': contentType } },
    );
}

async function bodyOf(chunks: string[], contentType: string, maxBytes: number): Promise<string> {
  const response = await boundedFetch(maxBytes, answering(chunks, contentType))('http://model.test/v1');
  return response.text();
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failure = error as ApplicationFailure;
  expect(failure.type).toBe(ErrorType.ModelBadResponse);
  expect(failure.nonRetryable).toBe(true);
  return failure;
}

describe('boundedFetch', () => {
  it('passes a JSON body up to the bound, and fails one past it', async () => {
    expect(await bodyOf(['{"a":', '"12345"}'], 'application/json', 13)).toBe('{"a":"12345"}');
    const failure = await failureOf(bodyOf(['{"a":', '"123456"}'], 'application/json', 13));
    expect(failure.message).toBe('model answered off-spec: the answer passed 13 bytes');
  });

  it('passes an event stream of any length whose events each fit the bound', async () => {
    const event = 'data: {"x":"0123456789"}\n\n';
    const body = await bodyOf(Array(1_000).fill(event), 'text/event-stream', event.length);
    expect(body.length).toBe(event.length * 1_000);
  });

  it.each([
    ['LF', '\n'],
    ['CR', '\r'],
    ['CRLF', '\r\n'],
  ])('ends events at blank lines (%s), wherever chunks split them', async (_name, end) => {
    const event = `data: 0123456789${end}${end}`;
    const text = event.repeat(50);
    for (const size of [1, 2, 3, 5, 7]) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(await bodyOf(chunks, 'text/event-stream', event.length)).toBe(text);
    }
  });

  it('fails an event that passes the bound: a line without end, or data lines without a blank line', async () => {
    const endless = ['data: {"x":"', ...Array(100).fill('a'.repeat(10))];
    expect((await failureOf(bodyOf(endless, 'text/event-stream', 500))).message).toBe(
      'model answered off-spec: one event of the answer stream passed 500 bytes',
    );
    await failureOf(bodyOf(Array(100).fill('data: 0123456789\n'), 'text/event-stream', 500));
  });
});

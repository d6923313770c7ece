/**
 * Streamed model answers without a model: `readCompletion` on real `Response`s made of SSE text (and
 * one from a loopback server, to abort a real fetch), checked to give what `parseCompletion` gives for
 * the same answer unstreamed; off-shape and cut-off streams; and `StreamingChoice`, which stops
 * streaming for a model whose endpoint refused it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { readCompletion, StreamingChoice, type StreamedAnswer } from '../../activities/model-stream';
import { parseCompletion } from '../../activities/model-response';
import { Bounds } from '../../src/defaults';
import { ErrorType } from '../../src/errors';
import { LIVE_TEXT_MAX_BYTES } from '../../src/live-answer';
import { DEFAULT_PRICES } from '../../src/pricing';

const openai = new OpenAI({ apiKey: 'x', baseURL: 'http://127.0.0.1:1' });
const SSE = { 'content-type': 'text/event-stream; charset=utf-8' };

/** `data:` events, then `[DONE]`; a string is sent as it is. */
const events = (chunks: unknown[], done = true) =>
  chunks.map((chunk) => `data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`).join('') +
  (done ? 'data: [DONE]\n\n' : '');

/** A response whose body arrives in pieces of `size` bytes (split inside lines and characters). */
function streamed(body: string, size = 7): Response {
  const bytes = new TextEncoder().encode(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let at = 0; at < bytes.length; at += size) controller.enqueue(bytes.slice(at, at + size));
      controller.close();
    },
  });
  return new Response(stream, { headers: SSE });
}

/** What `readCompletion` returns, and the text `onText` heard each time. */
async function read(response: Response): Promise<{ completion: unknown; heard: string[] }> {
  const heard: string[] = [];
  const completion = await readCompletion(response, new AbortController(), openai, (answer: StreamedAnswer) =>
    heard.push(answer.text),
  );
  return { completion, heard };
}

const parse = (completion: unknown) => parseCompletion(completion, 'gpt-4o-mini', DEFAULT_PRICES);

/** The error `promise` rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** The retryable ApplicationFailure of `type` that reading `body` throws. */
async function failure(body: string, type: string): Promise<ApplicationFailure> {
  const error = await rejection(read(new Response(body, { headers: SSE })));
  expect(error).toBeInstanceOf(ApplicationFailure);
  const failed = error as ApplicationFailure;
  expect(failed.type).toBe(type);
  expect(failed.nonRetryable).toBe(false);
  return failed;
}

const delta = (value: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  choices: [{ index: 0, delta: value, finish_reason: finish }],
  usage: null,
});
const usageChunk = {
  id: 'chatcmpl-1',
  choices: [],
  usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
};

describe('readCompletion', () => {
  it('assembles text in pieces (onText hears it grow) into the body an unstreamed answer has', async () => {
    const body = events([
      delta({ role: 'assistant', content: '' }),
      delta({ content: 'Hel' }),
      delta({ content: 'lo, ' }),
      delta({ content: 'wörld 日本' }),
      delta({}, 'stop'),
      usageChunk,
    ]);
    const { completion, heard } = await read(streamed(body));
    expect(heard).toEqual(['Hel', 'Hello, ', 'Hello, wörld 日本']);
    const unstreamed = {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hello, wörld 日本' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
    };
    expect(parse(completion)).toEqual(parse(unstreamed));
    expect(parse(completion)).toMatchObject({
      message: { role: 'assistant', content: 'Hello, wörld 日本' },
      finishReason: 'stop',
      inputTokens: 12,
      outputTokens: 5,
    });
  });

  it('assembles tool calls whose id, name and arguments come over several deltas and indexes', async () => {
    const body = events([
      delta({
        role: 'assistant',
        content: null,
        tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_', arguments: '' } }],
      }),
      delta({ tool_calls: [{ index: 0, function: { name: 'weather', arguments: '{"ci' } }] }),
      delta({
        tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '' } }],
      }),
      delta({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }),
      delta({ tool_calls: [{ index: 1, function: { arguments: '{"tz":"CET"}' } }] }),
      delta({}, 'tool_calls'),
      usageChunk,
    ]);
    const { completion, heard } = await read(streamed(body, 13));
    expect(heard).toEqual([]);
    const unstreamed = {
      choices: [
        {
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
              { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{"tz":"CET"}' } },
            ],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 12, completion_tokens: 5 },
    };
    expect(parse(completion)).toEqual(parse(unstreamed));
    expect(parse(completion).message.content).toBeNull();
  });

  it('keeps text and tool calls of one answer, the finish reason, and estimates usage when none came', async () => {
    const body = events([
      delta({ content: 'Let me check.' }),
      delta({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'lookup', arguments: '{}' } }] }),
      delta({}, 'length'),
    ]);
    const { completion } = await read(new Response(body, { headers: SSE }));
    expect(parse(completion)).toEqual({
      model: 'gpt-4o-mini',
      message: {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
      },
      finishReason: 'length',
      // No request was sent here (0 bytes); the answer's 13 bytes of text and 81 of tool calls, at 4 a token.
      inputTokens: 0,
      outputTokens: 24,
      costUsd: 24 * (DEFAULT_PRICES['gpt-4o-mini'].outputPerMillion / 1_000_000),
      costKnown: true,
      usageEstimated: true,
    });
  });

  it('reads only the first choice', async () => {
    const body = events([
      {
        choices: [
          { index: 1, delta: { content: 'other' } },
          { index: 0, delta: { content: 'first' } },
        ],
      },
      { choices: [{ index: 1, delta: {}, finish_reason: 'stop' }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
    ]);
    const { completion } = await read(new Response(body, { headers: SSE }));
    expect(parse(completion).message.content).toBe('first');
  });

  it('returns a JSON (unstreamed) answer as it is', async () => {
    const body = {
      choices: [{ index: 0, message: { role: 'assistant', content: 'Hi' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1, completion_tokens: 1 },
    };
    const response = new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
    const { completion, heard } = await read(response);
    expect(completion).toEqual(body);
    expect(heard).toEqual([]);
  });

  it('a stream that ends before the model finished is a retryable ModelUnavailable', async () => {
    await failure(events([delta({ content: 'Hel' }), delta({ content: 'lo' })]), ErrorType.ModelUnavailable);
    await failure(events([delta({ content: 'Hel' })], false), ErrorType.ModelUnavailable);
    await failure('', ErrorType.ModelUnavailable);
  });

  it.each([
    ['a chunk that is not an object', [42]],
    ['a null chunk', ['null']],
    ['a list chunk', [[{ choices: [] }]]],
    ['a chunk without choices', [{ id: 'chatcmpl-1' }]],
    ['choices that are not a list', [{ choices: { index: 0 } }]],
    ['a delta that is not an object', [{ choices: [{ index: 0, delta: 'Hello' }] }]],
    ['content that is a number', [delta({ content: 5 })]],
    ['content that is an object', [delta({ content: { text: 'Hi' } })]],
    ['tool_calls that are not a list', [delta({ tool_calls: { index: 0, function: { name: 'x' } } })]],
    ['a tool call without an index', [delta({ tool_calls: [{ id: 'call_1', function: { name: 'x' } }] })]],
    ['a tool call with a function that is not an object', [delta({ tool_calls: [{ index: 0, function: 'x' }] })]],
    [
      'a tool call index skipping ahead',
      [delta({ tool_calls: [{ index: 1, id: 'call_2', function: { name: 'x' } }] })],
    ],
    ['a negative tool call index', [delta({ tool_calls: [{ index: -1, function: { name: 'x' } }] })]],
  ])('%s is a retryable ModelBadResponse', async (_case, chunks) => {
    const failed = await failure(events([...chunks, delta({}, 'stop')]), ErrorType.ModelBadResponse);
    expect(failed.message).toMatch(/^model answered off-spec: /);
  });

  it('an answer past the payload bound, in text or in tool calls, is a non-retryable ModelBadResponse', async () => {
    const piece = 'x'.repeat(65_536);
    const pieces = Math.ceil(Bounds.payloadBytes / piece.length) + 1;
    for (const chunk of [
      delta({ content: piece }),
      delta({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'x', arguments: piece } }] }),
    ]) {
      const error = await rejection(read(streamed(events(Array(pieces).fill(chunk)), 65_536)));
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect((error as ApplicationFailure).type).toBe(ErrorType.ModelBadResponse);
      expect((error as ApplicationFailure).nonRetryable).toBe(true);
      expect((error as ApplicationFailure).message).toMatch(/the streamed answer passed 1572864 bytes/);
    }
  });

  it('assembles a 300 KB answer in 4-byte pieces; its live text stops growing at the live bound', async () => {
    const pieces = Array.from({ length: 75_000 }, (_, index) => String(index % 10_000).padStart(4, '0'));
    let live = '';
    let liveReads = 0;
    const completion = await readCompletion(
      new Response(events([...pieces.map((content) => delta({ content })), delta({}, 'stop')]), { headers: SSE }),
      new AbortController(),
      openai,
      (answer: StreamedAnswer) => {
        // As a heartbeat would, now and then.
        if (answer.textBytes % 40_000 === 0) {
          live = answer.liveText();
          liveReads += 1;
        }
      },
    );
    expect(parse(completion).message.content).toBe(pieces.join(''));
    expect(liveReads).toBeGreaterThan(3);
    expect(live).toBe(pieces.join('').slice(0, LIVE_TEXT_MAX_BYTES));
  });

  it('stops when its controller aborts, and throws the reason', async () => {
    let server: Server | undefined;
    try {
      // A real endpoint that writes a little and then holds the stream open.
      server = createServer((_request, response) => {
        response.writeHead(200, SSE);
        response.write(events([delta({ content: 'Hel' })], false));
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const controller = new AbortController();
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal });
      const reason = new Error('request timed out');
      const heard: string[] = [];
      const error = await rejection(
        readCompletion(response, controller, openai, (answer) => {
          heard.push(answer.text);
          controller.abort(reason);
        }),
      );
      expect(heard).toEqual(['Hel']);
      expect(error).toBe(reason);
    } finally {
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
    }
  });

  it('an already aborted controller throws its reason, not a cut-off answer', async () => {
    const controller = new AbortController();
    const reason = new OpenAI.APIUserAbortError();
    controller.abort(reason);
    const body = events([delta({ content: 'Hel' })], false);
    // The body as fetch gives it once aborted: the read fails with an AbortError.
    const stream = new ReadableStream<Uint8Array>({
      pull(streamController) {
        streamController.error(new DOMException(body, 'AbortError'));
      },
    });
    const error = await rejection(readCompletion(new Response(stream, { headers: SSE }), controller, openai, () => {}));
    expect(error).toBe(reason);
  });
});

describe('StreamingChoice', () => {
  /** The error the SDK throws for an endpoint that answered `status` with the OpenAI error body `{ error: { message } }`. */
  const refusal = (status: number, message: string) =>
    OpenAI.APIError.generate(status, { error: { message } }, undefined, new Headers());

  it('streams every model until its endpoint is said to have refused a stream request', () => {
    const choice = new StreamingChoice(true);
    expect(choice.streams('gpt-4o-mini')).toBe(true);
    choice.refused('gpt-4o-mini');
    expect(choice.streams('gpt-4o-mini')).toBe(false);
    expect(choice.streams('gpt-4o')).toBe(true);
  });

  it.each([
    ['a 400 naming streaming', refusal(400, 'Unsupported parameter: stream is not supported')],
    ['a 422', new OpenAI.UnprocessableEntityError(422, { message: 'STREAMING disabled' }, undefined, new Headers())],
    // vLLM and others put the message at the top of the body: the SDK's error then reads "(no body)".
    [
      'a 400 whose body is not OpenAI-shaped',
      OpenAI.APIError.generate(400, { object: 'error', message: 'stream is not supported' }, undefined, new Headers()),
    ],
    ['a 400 that names something else', refusal(400, 'Invalid value for temperature')],
  ])('%s may be a refusal: the request is asked again unstreamed', (_case, error) => {
    expect(new StreamingChoice(true).mayBeRefusal(error)).toBe(true);
  });

  it.each([
    ['a 500 that names streaming', refusal(500, 'stream broke')],
    ['a 429', refusal(429, 'Rate limit reached while streaming')],
    ['a plain error naming streaming', new Error('stream is not supported')],
    ['a connection error', new OpenAI.APIConnectionError({ message: 'stream refused' })],
    ['not an error', 'stream'],
  ])('%s is no refusal', (_case, error) => {
    expect(new StreamingChoice(true).mayBeRefusal(error)).toBe(false);
  });

  it('streams nothing when configured not to', () => {
    const choice = new StreamingChoice(false);
    expect(choice.streams('gpt-4o-mini')).toBe(false);
    expect(choice.streams('any')).toBe(false);
  });
});

/**
 * The ways of real model servers (issue #24), piece by piece: requests they accept (no `content:
 * null`, the cap in the field they know), error bodies in OpenAI's shape, windows read from the
 * server, the scripted server's compatibility profiles as the real `openai` client meets them, and
 * the words the run says to the model.
 */
import OpenAI from 'openai';
import { openAIErrorBodies } from '../../activities/error-body-shape';
import { wireMessages } from '../../src/wire-messages';
import { classifyModelError } from '../../activities/model-errors';
import { buildCapParameters, cutAtCap, OutputCapChoice, overran } from '../../activities/output-cap';
import { probeContextWindows } from '../../runtime/context-window-probe';
import { OFFLINE_ANSWER_LABEL, offlineReply } from '../../runtime/offline-model';
import { buildContextWindows } from '../../src/context-windows';
import { ConfigError, ErrorType } from '../../src/errors';
import { readToolResult } from '../../src/tool-result-kinds';
import type { ChatMessage } from '../../src/types';
import { reply, serverProfiles, startScriptedModel, type ScriptedModel, type ServerProfile } from '../../testing';
import { formatSteps, formatUsage } from '../../cli/format';
import { formatLogEntry } from '../../runtime/logging';
import { repetitionWarning, toolCallsDone } from '../../workflows/guidance';
import { currentDetails } from '../../workflows/status-report';
import { deniedMessage, notRunMessage, toolErrorMessage, toolMessage } from '../../workflows/tool-messages';
import type { ApplicationFailure } from '@temporalio/common';

const call = (id: string, name: string) => ({ id, type: 'function' as const, function: { name, arguments: '{}' } });

describe('requests a server accepts', () => {
  it("sends an assistant message that only calls tools with content '', leaving the transcript's null", () => {
    const transcript: ChatMessage[] = [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: null, tool_calls: [call('c1', 'lookup')] },
      { role: 'tool', tool_call_id: 'c1', content: 'found' },
      { role: 'assistant', content: 'Done.' },
    ];
    const wire = wireMessages(transcript);
    expect(wire[1]).toEqual({ role: 'assistant', content: '', tool_calls: [call('c1', 'lookup')] });
    expect(wire.filter((message) => message.content === null)).toEqual([]);
    expect(transcript[1].content).toBeNull();
    expect(wire[3]).toBe(transcript[3]);
  });

  it('puts the cap in max_completion_tokens unless told, per model or for all (*), and in both once one overran', () => {
    const caps = new OutputCapChoice(buildCapParameters('{"local": "max_tokens", "*": "max_completion_tokens"}'));
    expect(caps.fields('gpt-4o-mini', 64)).toEqual({ max_completion_tokens: 64 });
    expect(caps.fields('local', 64)).toEqual({ max_tokens: 64 });
    expect(new OutputCapChoice({ '*': 'both' }).fields('any', 8)).toEqual({ max_completion_tokens: 8, max_tokens: 8 });
    // Learned once, said once.
    expect(caps.learn('gpt-4o-mini')).toBe('max_completion_tokens');
    expect(caps.learn('gpt-4o-mini')).toBeUndefined();
    expect(caps.fields('gpt-4o-mini', 64)).toEqual({ max_completion_tokens: 64, max_tokens: 64 });
    expect(() => buildCapParameters('{"m": "max_length"}')).toThrow(ConfigError);
  });

  it('tells an overrun by the reported count, else by more text than any tokenizer makes of the cap; cuts at the cap', () => {
    expect(overran(10, 1_000, 9)).toBe(false);
    expect(overran(10, 10, 11)).toBe(true);
    expect(overran(10, 60, undefined)).toBe(false);
    expect(overran(10, 61, undefined)).toBe(true);
    const long = 'word '.repeat(200);
    const cut = cutAtCap(long, 10);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(10 * 4 + 3);
    expect(cut).toMatch(/^(word ){7}word…$/);
    // With the reported count, in proportion: 1,000 bytes for 100 tokens, cut at 10 tokens.
    expect(Buffer.byteLength(cutAtCap(long, 10, 100))).toBeLessThanOrEqual(100 + 3);
    expect(cutAtCap('short', 10)).toBe('short');
  });
});

describe('error bodies in OpenAI shape', () => {
  const answering = (status: number, body: unknown) => async () =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

  it.each<[string, unknown, unknown]>([
    [
      "vLLM's",
      { object: 'error', message: 'too long', type: 'BadRequestError', param: null, code: 400 },
      { error: { message: 'too long', type: 'BadRequestError', param: null, code: 400 } },
    ],
    [
      "FastAPI's detail",
      { detail: [{ loc: ['body'], msg: 'bad' }] },
      { error: { message: '[{"loc":["body"],"msg":"bad"}]' } },
    ],
    ["OpenAI's own, unchanged", { error: { message: 'no', code: 'x' } }, { error: { message: 'no', code: 'x' } }],
  ])('%s error body', async (_case, body, shaped) => {
    const response = await openAIErrorBodies(answering(400, body))('http://x');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(shaped);
  });

  it('lets the openai client read the words of a vLLM 400', async () => {
    const openai = new OpenAI({
      apiKey: 'k',
      baseURL: 'http://x/v1',
      maxRetries: 0,
      fetch: openAIErrorBodies(answering(400, { object: 'error', message: "'stream' is not supported", code: 400 })),
    });
    const error = await openai.chat.completions.create({ model: 'm', messages: [] }).catch((caught: unknown) => caught);
    expect((classifyModelError(error) as ApplicationFailure).message).toBe(
      "model endpoint answered 400: 'stream' is not supported",
    );
  });

  it('leaves answers that are not errors alone', async () => {
    const ok = await openAIErrorBodies(answering(200, { detail: 'not an error' }))('http://x');
    expect(await ok.json()).toEqual({ detail: 'not an error' });
  });
});

describe('context windows read from the server', () => {
  const started: ScriptedModel[] = [];
  const serve = async (profile?: ServerProfile) => {
    const model = await startScriptedModel(() => reply.text('hi'), { profile });
    started.push(model);
    return model;
  };
  afterAll(() => Promise.all(started.map((model) => model.close())));

  it("llama-server's /props n_ctx, for any model", async () => {
    const model = await serve(serverProfiles.llamaServer({ window: 16_384 }));
    const found = await probeContextWindows(model.baseUrl, ['qwen', 'other']);
    expect(Object.fromEntries(found)).toEqual({
      qwen: { tokens: 16_384, source: 'llama-server /props n_ctx' },
      other: { tokens: 16_384, source: 'llama-server /props n_ctx' },
    });
  });

  it("vLLM's /v1/models max_model_len, for the model it serves only", async () => {
    const model = await serve(serverProfiles.vllm({ window: 8_192, model: 'qwen' }));
    const found = await probeContextWindows(model.baseUrl, ['qwen', 'other']);
    expect(Object.fromEntries(found)).toEqual({ qwen: { tokens: 8_192, source: 'vLLM /v1/models max_model_len' } });
  });

  it("Ollama's /api/show context length", async () => {
    const model = await serve(serverProfiles.ollama({ window: 32_768 }));
    expect((await probeContextWindows(model.baseUrl, ['qwen2.5'])).get('qwen2.5')).toEqual({
      tokens: 32_768,
      source: 'Ollama /api/show',
    });
  });

  it('nothing from a server that says nothing, and no request at all to OpenAI', async () => {
    const model = await serve();
    expect((await probeContextWindows(model.baseUrl, ['m'])).size).toBe(0);
    const fetched = jest.fn(fetch);
    expect((await probeContextWindows('https://api.openai.com/v1', ['gpt-4o'], fetched)).size).toBe(0);
    expect(fetched).not.toHaveBeenCalled();
  });

  it('the table: built in, then what the server said, then MODEL_CONTEXT_WINDOWS', () => {
    const windows = buildContextWindows('{"qwen": 4096}', { qwen: 16_384, 'gpt-4o': 1_000, llama: 8_192 });
    expect(windows).toMatchObject({ qwen: 4_096, 'gpt-4o': 1_000, llama: 8_192, 'gpt-4.1': 1_047_576 });
  });
});

describe("the scripted server's compatibility profiles, as the openai client meets them", () => {
  let model: ScriptedModel;
  afterEach(() => model.close());

  const client = (scripted: ScriptedModel) => new OpenAI({ apiKey: 'k', baseURL: scripted.baseUrl, maxRetries: 0 });
  const failureOf = async (promise: Promise<unknown>) =>
    classifyModelError(
      await promise.then(() => new Error('answered')).catch((error: unknown) => error),
    ) as ApplicationFailure;
  const withNull: OpenAI.ChatCompletionMessageParam[] = [
    { role: 'user', content: 'refund' },
    { role: 'assistant', content: null, tool_calls: [call('c1', 'refund')] },
    { role: 'tool', tool_call_id: 'c1', content: 'ok' },
  ];

  it('llama-cpp-python: null content is a 500 of many lines, "" is fine; no usage streamed; max_tokens caps, max_completion_tokens does not', async () => {
    model = await startScriptedModel(() => reply.text('word '.repeat(100)), {
      profile: serverProfiles.llamaCppPython(),
    });
    const openai = client(model);
    const refused = await failureOf(openai.chat.completions.create({ model: 'm', messages: withNull }));
    expect(refused.type).toBe(ErrorType.ModelUnavailable);
    expect(refused.message).toMatch(
      /^model endpoint answered 500: 1 validation errors for CreateChatCompletionRequest messages\.1\.typed-dict\.content Input should be a valid string/,
    );
    expect(refused.message).not.toContain('\n');
    const messages = wireMessages(withNull as ChatMessage[]) as OpenAI.ChatCompletionMessageParam[];
    const ignored = await openai.chat.completions.create({ model: 'm', messages, max_completion_tokens: 10 });
    expect(ignored.choices[0].message.content).toBe('word '.repeat(100));
    const capped = await openai.chat.completions.create({ model: 'm', messages, max_tokens: 10 });
    expect(capped.choices[0]).toMatchObject({
      message: { content: 'word word word word word word word word ' },
      finish_reason: 'length',
    });
    const stream = await openai.chat.completions.create({
      model: 'm',
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.filter((chunk) => chunk.usage)).toEqual([]);
  });

  it('llama-server: past n_ctx, its 400 exceed_context_size_error; output it cannot parse, the same words streamed or not', async () => {
    model = await startScriptedModel(() => reply.unparsed(), { profile: serverProfiles.llamaServer({ window: 50 }) });
    const openai = client(model);
    const long = await failureOf(
      openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(400) }] }),
    );
    expect(long).toMatchObject({
      type: ErrorType.ModelBadRequest,
      details: [{ contextExceeded: true, windowTokens: 50 }],
    });
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'hi' }];
    const unstreamed = await failureOf(openai.chat.completions.create({ model: 'm', messages }));
    const streamed = await failureOf(
      (async () => {
        for await (const _chunk of await openai.chat.completions.create({ model: 'm', messages, stream: true }));
      })(),
    );
    expect(unstreamed).toMatchObject({ type: ErrorType.ModelOutputUnparsed });
    expect(streamed.message).toBe(unstreamed.message);
    expect(unstreamed.message).toBe(
      'model endpoint answered 500: The model produced output that does not match the expected peg-native format',
    );
  });

  it("vLLM: past max_model_len, its own 400 body, read through the worker's error shaping", async () => {
    model = await startScriptedModel(() => reply.text('hi'), { profile: serverProfiles.vllm({ window: 50 }) });
    const openai = new OpenAI({ apiKey: 'k', baseURL: model.baseUrl, maxRetries: 0, fetch: openAIErrorBodies() });
    const failure = await failureOf(
      openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x'.repeat(400) }] }),
    );
    expect(failure.type).toBe(ErrorType.ModelBadRequest);
    expect(failure.message).toMatch(/^model endpoint answered 400: This model's maximum context length is 50 tokens\./);
    expect(failure.details).toEqual([{ contextExceeded: true, requestTokens: expect.any(Number), windowTokens: 50 }]);
  });

  it('is taken down (connections refused) and brought up on its port', async () => {
    model = await startScriptedModel(() => reply.text('back'));
    const openai = client(model);
    await model.takeDown();
    const down = await failureOf(
      openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
    );
    expect(down.type).toBe(ErrorType.ModelUnreachable);
    await model.bringUp();
    const up = await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(up.choices[0].message.content).toBe('back');
  });
});

describe('what the run says to the model, in words', () => {
  it('a denial, a tool error and a call not run: words, each kind read back', () => {
    const denied = deniedMessage('c1', 'issue_refund', 'not "this" one\nplease');
    expect(denied.content).toBe(
      'Denied: a person did not approve this call to issue_refund, so it did not run. Their note: "not \\"this\\" one\\nplease"',
    );
    expect(readToolResult(denied.content!)).toEqual({ kind: 'denied', note: 'not "this" one\nplease' });
    expect(readToolResult(deniedMessage('c1', 'issue_refund', undefined).content!)).toEqual({ kind: 'denied' });
    expect(readToolResult(toolErrorMessage('c2', 'Tool lookup failed: timeout').content!)).toEqual({ kind: 'failed' });
    expect(readToolResult(notRunMessage('c3', 'a repeat.').content!)).toEqual({ kind: 'not run' });
    expect(readToolResult('{"orderId":"1042"}')).toEqual({ kind: 'ran' });
    // Results recorded as JSON before read the same.
    expect(readToolResult('{"denied":true,"error":"A person denied this call.","note":"no"}')).toEqual({
      kind: 'denied',
      note: 'no',
    });
    expect(readToolResult('{"error":"Not run: a repeat."}')).toEqual({ kind: 'not run' });
    expect(readToolResult('{"error":"boom"}')).toEqual({ kind: 'failed' });
    for (const message of [denied, toolErrorMessage('c', 'x'), notRunMessage('c', 'y')]) {
      expect(() => JSON.parse(message.content!)).toThrow();
    }
  });

  it('a repeat warning names the tool, never the JSON of its call', () => {
    const call = repetitionWarning({ description: 'x {"a":1}', kind: 'call', tools: ['lookup'], times: 3 });
    expect(call.content).toBe(
      '[You have made the same call to lookup, with the same arguments, 3 times in a row. Doing it again will not change the result.] Answer from what you have, or try a different approach.',
    );
    const results = repetitionWarning({ description: 'x', kind: 'results', tools: ['a', 'b', 'c'], times: 3 });
    expect(results.content).toMatch(
      /^\[You have called a, b and c 3 times in a row and got back only results you had already read\./,
    );
    expect(`${call.content}${results.content}`).not.toMatch(/[{}]/);
  });

  it('a summary says what ran, what was denied, what failed and what was not run', () => {
    const turn: ChatMessage[] = [
      { role: 'user', content: 'refund all' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [call('a', 'issue_refund'), call('b', 'issue_refund'), call('c', 'lookup_order')],
      },
      toolMessage('a', '{"refunded":true}'),
      deniedMessage('b', 'issue_refund', 'no'),
      toolErrorMessage('c', 'Tool lookup_order failed: timeout'),
      { role: 'assistant', content: null, tool_calls: [call('d', 'issue_refund'), call('e', 'issue_refund')] },
      notRunMessage('d', 'a repeat.'),
    ];
    expect(toolCallsDone(turn)).toBe('Tool calls: issue_refund (1 ran, 1 denied, 2 not run); lookup_order (1 failed).');
    expect(toolCallsDone([{ role: 'user', content: 'hi' }])).toBe('Tool calls: none.');
  });

  it('the offline demo model reads a denial in words, with its note', () => {
    const tools = [{ type: 'function' as const, function: { name: 'book', description: 'Books.', parameters: {} } }];
    const messages: ChatMessage[] = [
      { role: 'user', content: 'book it' },
      { role: 'assistant', content: null, tool_calls: [call('b', 'book')] },
      deniedMessage('b', 'book', 'too pricey'),
    ];
    const answer = offlineReply({ model: 'm', messages, tools, headers: {}, receivedAt: 0, stream: false });
    expect(answer).toMatchObject({
      content: `${OFFLINE_ANSWER_LABEL} book did not run: a person denied it ("too pricey").`,
    });
  });
});

describe('estimated usage, as people read it', () => {
  const usage = { inputTokens: 100, outputTokens: 20, totalTokens: 120, costUsd: 0.5, costKnown: true };

  it('status and results say it is estimated; a table marks each estimated count ~', () => {
    expect(formatUsage({ ...usage, estimated: true })).toBe(
      '120 tokens (100 in, 20 out), $0.500000 (estimated: the endpoint reported no usage)',
    );
    expect(formatUsage(usage)).toBe('120 tokens (100 in, 20 out), $0.500000');
    const steps = formatSteps([
      { step: 1, model: 'local', inputTokens: 100, outputTokens: 20, costUsd: 0, seconds: 1, estimated: true },
    ]);
    expect(steps).toMatch(/^1\s+local\s+~100\s+~20\s/m);
    expect(steps).toMatch(/^total\s+~100\s+~20\s/m);
    expect(steps.split('\n').at(-1)).toBe('~ estimated: the endpoint reported no usage');
  });

  it("the Web UI's details say so", () => {
    expect(currentDetails('running', { step: 2, usage: { ...usage, estimated: true } }, [], 'id')).toMatch(
      /^\*\*running\*\* · step 2 · 120 tokens \(estimated: the endpoint reports no usage\) · \$0\.5/,
    );
  });
});

describe('a failed attempt in the worker log', () => {
  it('is one line, whatever its failure says', () => {
    const line = formatLogEntry({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos: 0n,
      meta: {
        activityType: 'callModel',
        attempt: 1,
        maxAttempts: 5,
        step: 1,
        model: 'm',
        error: new Error('a\n  b\r\nc'),
      },
    });
    expect(line).toBe('1970-01-01T00:00:00.000Z [WARN] model call failed (attempt 1/5, step 1, m): a b c');
  });
});

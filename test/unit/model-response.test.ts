import type { Context } from '@temporalio/activity';
import { ApplicationFailure, defaultFailureConverter, defaultPayloadConverter } from '@temporalio/common';
import { DETAILS_EVERY_MS, heartbeatInterval, startHeartbeats } from '../../activities/heartbeat';
import { describeValue, parseCompletion } from '../../activities/model-response';
import { Bounds } from '../../src/defaults';
import { ErrorType } from '../../src/errors';
import { DEFAULT_PRICES } from '../../src/pricing';
import { utf8Bytes } from '../../src/validation';
import { thrown } from '../support/thrown';

/** A well-formed Chat Completions body, with `message` fields and top-level fields overridden. */
function completion(message: Record<string, unknown> = {}, top: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.', ...message }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
    ...top,
  };
}

const parse = (body: unknown) => parseCompletion(body, 'gpt-4o-mini', DEFAULT_PRICES);

/** The ModelBadResponse that parsing `body` throws. */
function offSpec(body: unknown): ApplicationFailure {
  const failure = thrown(ApplicationFailure, () => parse(body));
  expect(failure.type).toBe(ErrorType.ModelBadResponse);
  // Retried like a 5xx: the next answer may be fine.
  expect(failure.nonRetryable).toBe(false);
  return failure;
}

const call = (id: string, name = 'lookup_order', args = '{"orderId":"1042"}') => ({
  id,
  type: 'function',
  function: { name, arguments: args },
});

describe('parseCompletion', () => {
  it('reads text, usage, cost and finish reason from a well-formed answer', () => {
    expect(parse(completion())).toEqual({
      model: 'gpt-4o-mini',
      message: { role: 'assistant', content: 'Hello.' },
      finishReason: 'stop',
      inputTokens: 100,
      outputTokens: 20,
      costUsd: (100 * 0.15 + 20 * 0.6) / 1e6,
      costKnown: true,
    });
  });

  it('keeps only the fields of a tool call the run uses', () => {
    const result = parse(
      completion({ content: null, tool_calls: [{ ...call('call_1'), index: 0, extra: true }], refusal: null }),
    );
    expect(result.message).toEqual({ role: 'assistant', content: null, tool_calls: [call('call_1')] });
  });

  it.each([
    ['content absent', completion({ content: undefined })],
    ['tool_calls null', completion({ content: null, tool_calls: null })],
    ['tool_calls empty', completion({ content: null, tool_calls: [] })],
  ])('reads %s as no text and no tool calls', (_case, body) => {
    expect(parse(body).message).toEqual({ role: 'assistant', content: null });
  });

  it.each([
    ['no usage', completion({}, { usage: undefined })],
    ['usage null', completion({}, { usage: null })],
    ['usage without counts', completion({}, { usage: {} })],
    ['counts null', completion({}, { usage: { prompt_tokens: null, completion_tokens: null } })],
    ['zero tokens for a request that sent some', completion({}, { usage: { prompt_tokens: 0, completion_tokens: 0 } })],
  ])('estimates %s from the sizes (4 bytes a token), marked estimated and priced', (_case, body) => {
    // A 400-byte request; the answer "Hello." is 6 bytes.
    const parsed = parseCompletion(body, 'gpt-4o-mini', DEFAULT_PRICES, 400);
    const price = DEFAULT_PRICES['gpt-4o-mini'];
    expect(parsed).toMatchObject({ inputTokens: 100, outputTokens: 2, usageEstimated: true });
    expect(parsed.costUsd).toBeCloseTo((100 * price.inputPerMillion + 2 * price.outputPerMillion) / 1_000_000, 12);
  });

  it('estimates only the count an endpoint left out', () => {
    const parsed = parseCompletion(
      completion({}, { usage: { prompt_tokens: 55 } }),
      'gpt-4o-mini',
      DEFAULT_PRICES,
      400,
    );
    expect(parsed).toMatchObject({ inputTokens: 55, outputTokens: 2, usageEstimated: true });
  });

  it('reads cached input and reasoning tokens from an unstreamed answer, and bills the cache at its price', () => {
    const usage = {
      prompt_tokens: 1_200,
      completion_tokens: 400,
      prompt_tokens_details: { cached_tokens: 1_000 },
      completion_tokens_details: { reasoning_tokens: 300 },
    };
    const parsed = parse(completion({}, { usage }));
    expect(parsed).toMatchObject({
      inputTokens: 1_200,
      cachedInputTokens: 1_000,
      outputTokens: 400,
      reasoningTokens: 300,
    });
    const price = DEFAULT_PRICES['gpt-4o-mini'];
    const byHand = 200 * price.inputPerMillion + 1_000 * price.cachedInputPerMillion! + 400 * price.outputPerMillion;
    expect(parsed.costUsd).toBeCloseTo(byHand / 1e6, 15);
  });

  it.each([
    ['zeros', { cached_tokens: 0 }, { reasoning_tokens: 0 }],
    ['nulls', { cached_tokens: null }, null],
  ])('leaves the parts out when an answer reports %s', (_case, prompt, completionDetails) => {
    const usage = {
      prompt_tokens: 100,
      completion_tokens: 20,
      prompt_tokens_details: prompt,
      completion_tokens_details: completionDetails,
    };
    const parsed = parse(completion({}, { usage }));
    expect(parsed).not.toHaveProperty('cachedInputTokens');
    expect(parsed).not.toHaveProperty('reasoningTokens');
  });

  it('believes no more cached or reasoning tokens than the counts they are part of', () => {
    const usage = {
      prompt_tokens: 10,
      completion_tokens: 5,
      prompt_tokens_details: { cached_tokens: 1e9 },
      completion_tokens_details: { reasoning_tokens: 1e9 },
    };
    expect(parse(completion({}, { usage }))).toMatchObject({ cachedInputTokens: 10, reasoningTokens: 5 });
  });

  it('refuses parts that are not token counts, as it refuses the counts', () => {
    const usage = { prompt_tokens: 10, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 'lots' } };
    expect(offSpec(completion({}, { usage })).message).toContain('usage.prompt_tokens_details.cached_tokens');
  });

  it('reported usage is not marked estimated', () => {
    expect(parse(completion())).not.toHaveProperty('usageEstimated');
  });

  it.each([
    ['absent', undefined],
    ['not a string', { reason: 'stop' }],
  ])('reads a finish reason that is %s as none', (_case, reason) => {
    const body = completion();
    (body.choices[0] as Record<string, unknown>).finish_reason = reason;
    expect(parse(body).finishReason).toBeNull();
    delete (body.choices[0] as Record<string, unknown>).finish_reason;
    expect(parse(body).finishReason).toBeNull();
  });

  it('reads a minimal answer: a choice with a message', () => {
    expect(parse({ choices: [{ message: { content: 'Hi' } }] })).toMatchObject({
      message: { role: 'assistant', content: 'Hi' },
      finishReason: null,
      // No usage: estimated (no request bytes here; "Hi" is one token).
      inputTokens: 0,
      outputTokens: 1,
      usageEstimated: true,
    });
  });

  it('marks the cost unknown for a model without a price', () => {
    expect(parseCompletion(completion(), 'unpriced-model', DEFAULT_PRICES)).toMatchObject({
      costUsd: 0,
      costKnown: false,
    });
  });

  it('returns 2,500 well-formed tool calls as they are: the run decides how many it runs', () => {
    const calls = Array.from({ length: 2_500 }, (_, index) => call(`call_${index}`));
    expect(parse(completion({ content: null, tool_calls: calls })).message.tool_calls).toEqual(calls);
  });

  it.each<[string, unknown, RegExp]>([
    ['object content', completion({ content: { type: 'text', text: 'Hi' } }), /choices\.0\.message\.content: .*string/],
    ['array content', completion({ content: [{ type: 'text', text: 'Hi' }] }), /choices\.0\.message\.content: /],
    ['numeric content', completion({ content: 42 }), /choices\.0\.message\.content: /],
    [
      'string usage',
      completion({}, { usage: { prompt_tokens: 'lots', completion_tokens: 2 } }),
      /usage\.prompt_tokens: /,
    ],
    [
      'negative usage',
      completion({}, { usage: { prompt_tokens: 10, completion_tokens: -1 } }),
      /usage\.completion_tokens: /,
    ],
    [
      'fractional usage',
      completion({}, { usage: { prompt_tokens: 1.5, completion_tokens: 2 } }),
      /usage\.prompt_tokens: /,
    ],
    [
      'infinite usage',
      completion({}, { usage: { prompt_tokens: Infinity, completion_tokens: 2 } }),
      /usage\.prompt_tokens: /,
    ],
    [
      'unsafe integer usage',
      completion({}, { usage: { prompt_tokens: 2 ** 60, completion_tokens: 2 } }),
      /usage\.prompt_tokens: /,
    ],
    ['usage that is not an object', completion({}, { usage: 'plenty' }), /usage: /],
    ['no choices', completion({}, { choices: [] }), /choices: /],
    ['choices absent', { id: 'x', object: 'chat.completion' }, /choices: /],
    ['no message', completion({}, { choices: [{ index: 0, finish_reason: 'stop' }] }), /choices\.0\.message: /],
    ['a body that is not an object', '<html>Bad gateway</html>', /\(answer\): /],
    ['an empty body', undefined, /\(answer\): /],
    ['an array body', [completion()], /\(answer\): /],
    ['tool_calls not an array', completion({ tool_calls: { id: 'a' } }), /choices\.0\.message\.tool_calls: /],
    ['a tool call without id', completion({ tool_calls: [{ ...call('x'), id: undefined }] }), /tool_calls\.0\.id: /],
    ['a tool call with an empty id', completion({ tool_calls: [call('')] }), /tool_calls\.0\.id: /],
    [
      'a tool call of another type',
      completion({ tool_calls: [{ ...call('a'), type: 'custom' }] }),
      /tool_calls\.0\.type: /,
    ],
    [
      'a tool call without function',
      completion({ tool_calls: [{ id: 'a', type: 'function' }] }),
      /tool_calls\.0\.function: /,
    ],
    ['a numeric function name', completion({ tool_calls: [call('a', 7 as never)] }), /tool_calls\.0\.function\.name: /],
    [
      'object arguments',
      completion({ tool_calls: [call('a', 'f', { orderId: 1 } as never)] }),
      /function\.arguments: /,
    ],
  ])('rejects %s as a retryable ModelBadResponse saying what was wrong', (_case, body, where) => {
    expect(offSpec(body).message).toMatch(new RegExp(`^model answered off-spec: .*${where.source}`));
  });

  it('says what the bad value was but never what it says, and lists a few problems of many', () => {
    const content = { text: 'card 4111111111111111 '.repeat(1_000) };
    const message = offSpec(completion({ content })).message;
    expect(message).toContain('(choices.0.message.content was an object with 1 keys)');
    expect(message).not.toContain('4111');

    const calls = Array.from({ length: 2_500 }, (_, index) => ({ ...call(`call_${index}`), type: 'x'.repeat(1000) }));
    const many = offSpec(completion({ tool_calls: calls })).message;
    expect(many).toMatch(/tool_calls\.0\.type: .*tool_calls\.1\.type: .*tool_calls\.2\.type: .*; and 2497 more /);
    expect(utf8Bytes(many)).toBeLessThan(600);
  });

  it('rejects an answer too big for a payload', () => {
    const content = 'x'.repeat(Bounds.payloadBytes);
    const message = offSpec(completion({ content })).message;
    expect(message).toMatch(/^model answered off-spec: the answer is \d+ bytes, over the 1572864-byte payload bound$/);
  });

  it('accepts an answer just inside the payload bound', () => {
    const body = completion({ content: '' });
    const overhead = utf8Bytes(JSON.stringify(parse(body)));
    const content = 'x'.repeat(Bounds.payloadBytes - overhead);
    expect(parse(completion({ content })).message.content).toHaveLength(content.length);
  });

  it('records the failure in history without a stack trace', () => {
    const failure = offSpec(completion({ content: {} }));
    const recorded = defaultFailureConverter.errorToFailure(failure, defaultPayloadConverter);
    expect(recorded.applicationFailureInfo?.type).toBe(ErrorType.ModelBadResponse);
    expect(recorded.stackTrace).toBe('');
  });
});

describe('describeValue', () => {
  it("gives a value's kind and size, never its content", () => {
    expect(describeValue({ a: 1, b: 2 })).toBe('an object with 2 keys');
    expect(describeValue(['x', 'y', 'z'])).toBe('a list of 3 items');
    expect(describeValue('€€')).toBe('a string of 6 bytes');
    expect(describeValue(4111111111111111)).toBe('a number');
    expect(describeValue(null)).toBe('null');
    expect(describeValue(undefined)).toBe('missing');
  });
});

describe('heartbeats', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function fakeContext(heartbeatTimeoutMs?: number, isLocal = false) {
    const heartbeat = jest.fn();
    return { context: { heartbeat, info: { heartbeatTimeoutMs, isLocal } } as unknown as Context, heartbeat };
  }

  it('hand details given in quick succession to the SDK once, the latest, after a moment', () => {
    const { context, heartbeat } = fakeContext(10_000);
    const beats = startHeartbeats(context);
    beats.heartbeat({ text: 'a' });
    expect(heartbeat).not.toHaveBeenCalled();
    jest.advanceTimersByTime(0);
    for (const text of ['ab', 'abc', 'abcd']) {
      jest.advanceTimersByTime(10);
      beats.heartbeat({ text });
    }
    // The first on the next turn of the event loop; the rest wait for DETAILS_EVERY_MS after it, and
    // only the latest goes.
    expect(heartbeat.mock.calls).toEqual([[{ text: 'a' }]]);
    jest.advanceTimersByTime(DETAILS_EVERY_MS);
    expect(heartbeat.mock.calls).toEqual([[{ text: 'a' }], [{ text: 'abcd' }]]);
    beats.stop();
  });

  it('send nothing for a call that ends in the turn of the event loop that gave its details', () => {
    const { context, heartbeat } = fakeContext(10_000);
    const beats = startHeartbeats(context);
    beats.heartbeat({ step: 1, attempt: 1, text: 'the whole answer' });
    beats.stop();
    jest.advanceTimersByTime(5_000);
    expect(heartbeat).not.toHaveBeenCalled();
  });

  it('never beat for a local call, which cannot', () => {
    const { context, heartbeat } = fakeContext(10_000, true);
    const beats = startHeartbeats(context);
    beats.heartbeat({ step: 1, attempt: 1, text: 'so far' });
    jest.advanceTimersByTime(5_000);
    beats.stop();
    expect(heartbeat).not.toHaveBeenCalled();
  });

  it.each<[number | undefined, number]>([
    [undefined, 1_000],
    [0, 1_000],
    [30_000, 1_000],
    [900, 300],
    [60, 50],
  ])('with heartbeat timeout %p beat every %i ms', (timeoutMs, everyMs) => {
    expect(heartbeatInterval(timeoutMs)).toBe(everyMs);
  });

  it('beat on their own every second until stopped', () => {
    const { context, heartbeat } = fakeContext(10_000);
    const beats = startHeartbeats(context);
    jest.advanceTimersByTime(3_200);
    expect(heartbeat).toHaveBeenCalledTimes(3);
    expect(heartbeat).toHaveBeenLastCalledWith();
    beats.stop();
    jest.advanceTimersByTime(5_000);
    expect(heartbeat).toHaveBeenCalledTimes(3);
  });

  it("repeat the activity's own last details, so its progress report is never wiped", () => {
    const { context, heartbeat } = fakeContext();
    const beats = startHeartbeats(context);
    beats.heartbeat({ done: 3 });
    jest.advanceTimersByTime(0);
    expect(heartbeat).toHaveBeenLastCalledWith({ done: 3 });
    jest.advanceTimersByTime(1_000);
    expect(heartbeat).toHaveBeenCalledTimes(2);
    expect(heartbeat).toHaveBeenLastCalledWith({ done: 3 });
    beats.heartbeat(undefined);
    jest.advanceTimersByTime(1_000);
    expect(heartbeat).toHaveBeenLastCalledWith(undefined);
    beats.stop();
  });
});

import {
  ApplicationFailure,
  CancelledFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
} from '@temporalio/common';
import OpenAI from 'openai';
import {
  classifyModelError,
  CUT_CONNECTION,
  displayEndpoint,
  NO_KEY_FIXES,
  oneLine,
  PROVIDER_MESSAGE_MAX_BYTES,
} from '../../activities/model-errors';
import { ErrorType } from '../../src/errors';
import { freePort } from '../support/dev-server';

function apiError(status: number, headers: Record<string, string> = {}): InstanceType<typeof OpenAI.APIError> {
  return OpenAI.APIError.generate(
    status,
    { error: { message: 'provider says no' } },
    'provider says no',
    new Headers(headers),
  );
}

function classify(error: unknown, call?: Parameters<typeof classifyModelError>[1]): ApplicationFailure {
  const failure = classifyModelError(error, call);
  if (!(failure instanceof ApplicationFailure))
    throw new Error(`expected an ApplicationFailure, got ${String(failure)}`);
  return failure;
}

describe('classifyModelError', () => {
  it.each([
    [400, ErrorType.ModelBadRequest],
    [422, ErrorType.ModelBadRequest],
    [401, ErrorType.ModelAuthError],
    [403, ErrorType.ModelAuthError],
    [404, ErrorType.ModelNotFound],
    [418, ErrorType.ModelRequestRejected],
  ])('HTTP %i ends the run as non-retryable %s', (status, type) => {
    const failure = classify(apiError(status));
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(true);
    // The provider's own message, without the status repeated.
    expect(failure.message).toBe(`model endpoint answered ${status}: provider says no`);
  });

  it.each([408, 409, 500, 502, 503])('HTTP %i is a retryable ModelUnavailable', (status) => {
    const failure = classify(apiError(status));
    expect(failure.type).toBe(ErrorType.ModelUnavailable);
    expect(failure.nonRetryable).toBe(false);
  });

  describe('429', () => {
    const now = Date.parse('2025-01-01T12:00:00Z');
    beforeEach(() => jest.useFakeTimers({ now }));
    afterEach(() => jest.useRealTimers());

    it.each<[string, Record<string, string>, number | undefined]>([
      ['retry-after-ms in milliseconds', { 'retry-after-ms': '1500' }, 1500],
      ['retry-after in seconds', { 'retry-after': '7' }, 7000],
      ['retry-after in fractional seconds', { 'retry-after': '0.5' }, 500],
      ['retry-after as an HTTP date', { 'retry-after': new Date(now + 30_000).toUTCString() }, 30_000],
      ['retry-after-ms over retry-after', { 'retry-after-ms': '250', 'retry-after': '9' }, 250],
      ['retry-after when retry-after-ms is not a number', { 'retry-after-ms': 'soon', 'retry-after': '2' }, 2000],
      ['no delay without headers', {}, undefined],
      ['no delay for retry-after 0', { 'retry-after': '0' }, undefined],
      ['no delay for a date in the past', { 'retry-after': new Date(now - 60_000).toUTCString() }, undefined],
      ['no delay for an unparseable retry-after', { 'retry-after': 'whenever' }, undefined],
    ])('is a retryable ModelRateLimited: %s', (_case, headers, delayMs) => {
      const failure = classify(apiError(429, headers));
      expect(failure.type).toBe(ErrorType.ModelRateLimited);
      expect(failure.nonRetryable).toBe(false);
      expect(failure.nextRetryDelay).toBe(delayMs);
    });
  });

  it.each([
    ['a connection error', new OpenAI.APIConnectionError({ message: 'ECONNREFUSED' }), 'ECONNREFUSED'],
    ['a timeout', new OpenAI.APIConnectionTimeoutError(), 'timed out'],
  ])('%s is a retryable ModelUnreachable', (_case, error, detail) => {
    const failure = classify(error);
    expect(failure.type).toBe(ErrorType.ModelUnreachable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/^model endpoint unreachable: /);
    expect(failure.message).toContain(detail);
  });

  describe('names the endpoint and why it was unreachable', () => {
    /** A system error as Node raises it under fetch's "fetch failed", under the client's "Connection error.". */
    function connectionError(cause: object): InstanceType<typeof OpenAI.APIConnectionError> {
      return new OpenAI.APIConnectionError({ cause: new TypeError('fetch failed', { cause }) });
    }
    const systemError = (message: string, fields: object) => Object.assign(new Error(message), fields);
    const endpoint = 'http://127.0.0.1:29999/v1';

    it.each<[string, object, string]>([
      [
        'a refused connection',
        systemError('connect ECONNREFUSED 127.0.0.1:29999', {
          code: 'ECONNREFUSED',
          syscall: 'connect',
          address: '127.0.0.1',
          port: 29999,
        }),
        'ECONNREFUSED 127.0.0.1:29999',
      ],
      [
        'a host that does not resolve',
        systemError('getaddrinfo ENOTFOUND models.invalid', { code: 'ENOTFOUND', hostname: 'models.invalid' }),
        'ENOTFOUND models.invalid',
      ],
      [
        'every address of a host refusing (IPv6 and IPv4)',
        Object.assign(
          new AggregateError([
            systemError('connect ECONNREFUSED ::1:8080', { code: 'ECONNREFUSED', address: '::1', port: 8080 }),
            systemError('connect ECONNREFUSED 127.0.0.1:8080', {
              code: 'ECONNREFUSED',
              address: '127.0.0.1',
              port: 8080,
            }),
          ]),
          { code: 'ECONNREFUSED' },
        ),
        'ECONNREFUSED [::1]:8080, 127.0.0.1:8080',
      ],
      [
        'a code without an address',
        systemError('other side closed', { code: 'UND_ERR_SOCKET' }),
        'UND_ERR_SOCKET: other side closed',
      ],
      ['a cause without a code', new Error('socket hang up'), 'socket hang up'],
    ])('%s', (_case, cause, why) => {
      const failure = classify(connectionError(cause), { endpoint, requestTimeoutMs: 20_000 });
      expect(failure.type).toBe(ErrorType.ModelUnreachable);
      expect(failure.message).toBe(`model endpoint ${endpoint} unreachable: ${why}`);
    });

    it('a timeout, with the request timeout', () => {
      const failure = classify(new OpenAI.APIConnectionTimeoutError(), { endpoint, requestTimeoutMs: 1_500 });
      expect(failure.message).toBe(`model endpoint ${endpoint} unreachable: timed out after 1500 ms`);
    });

    it('never repeats credentials or a query of the URL, even when the cause quotes it', () => {
      const secretUrl = 'https://user:s3cret@models.example/v1?api-key=s3cretq#frag';
      const failure = classify(
        connectionError(
          new TypeError(
            `Request cannot be constructed from a URL that includes credentials: ${secretUrl}/chat/completions`,
          ),
        ),
        { endpoint: secretUrl },
      );
      expect(failure.message).toBe(
        'model endpoint https://models.example/v1 unreachable: ' +
          'Request cannot be constructed from a URL that includes credentials: https://models.example/v1',
      );
      expect(failure.message).not.toMatch(/s3cret|user|frag/);
    });

    it("is bounded, however long the cause's message, and says how long the whole was", () => {
      const failure = classify(connectionError(new Error('x'.repeat(10_000))), { endpoint });
      expect(Buffer.byteLength(failure.message)).toBeLessThanOrEqual(PROVIDER_MESSAGE_MAX_BYTES + 20);
      expect(failure.message).toMatch(
        /^model endpoint http:\/\/127\.0\.0\.1:29999\/v1 unreachable: x+… \(\d+ bytes\)$/,
      );
    });
  });

  describe('from what the openai client really throws', () => {
    // A timeout is not among them: under jest, fetch's AbortError comes from another realm and the client
    // no longer recognises it (test/integration/model-diagnostics.test.ts times out a real worker).
    async function failedCall(baseURL: string): Promise<unknown> {
      const openai = new OpenAI({ baseURL, apiKey: 'sk-unit-test-key', maxRetries: 0, timeout: 5_000 });
      try {
        await openai.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
      } catch (error) {
        return classifyModelError(error, { endpoint: openai.baseURL, requestTimeoutMs: 5_000 });
      }
      throw new Error('the call succeeded');
    }

    it('a closed port: ECONNREFUSED and the address', async () => {
      const port = await freePort();
      const failure = (await failedCall(`http://127.0.0.1:${port}/v1`)) as ApplicationFailure;
      expect(failure.type).toBe(ErrorType.ModelUnreachable);
      expect(failure.message).toBe(
        `model endpoint http://127.0.0.1:${port}/v1 unreachable: ECONNREFUSED 127.0.0.1:${port}`,
      );
    });

    it('a URL with credentials: neither they nor the key appear', async () => {
      const port = await freePort();
      const failure = (await failedCall(`http://ada:pw-s3cret@127.0.0.1:${port}/v1`)) as ApplicationFailure;
      expect(failure.type).toBe(ErrorType.ModelUnreachable);
      expect(failure.message).toMatch(new RegExp(`^model endpoint http://127\\.0\\.0\\.1:${port}/v1 unreachable: `));
      expect(failure.message).not.toMatch(/pw-s3cret|ada:|sk-unit-test-key/);
    });
  });

  describe('displayEndpoint', () => {
    it.each([
      ['https://api.openai.com/v1', 'https://api.openai.com/v1'],
      ['http://localhost:8080', 'http://localhost:8080'],
      ['http://localhost:8080/', 'http://localhost:8080/'],
      ['https://user:pass@models.example/openai/v1', 'https://models.example/openai/v1'],
      ['https://models.example/v1?api-key=secret#x', 'https://models.example/v1'],
      ['https://models.example?api-key=secret', 'https://models.example'],
      ['not a url', '(an invalid URL)'],
    ])('shows %s as %s', (url, shown) => {
      expect(displayEndpoint(url)).toBe(shown);
    });
  });

  it('APIError.generate without headers is treated as a connection failure', () => {
    const error = OpenAI.APIError.generate(undefined, undefined, 'socket hang up', undefined);
    expect(classify(error).type).toBe(ErrorType.ModelUnreachable);
  });

  it.each([
    ['a plain Error', new Error('boom'), 'model call failed: boom'],
    ['a thrown string', 'boom', 'model call failed: boom'],
  ])('%s is a retryable ModelUnavailable', (_case, error, message) => {
    const failure = classify(error);
    expect(failure.type).toBe(ErrorType.ModelUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe(message);
  });

  it('a body that is not JSON is a retryable ModelBadResponse that does not quote it', () => {
    let error: unknown;
    try {
      JSON.parse('<html>secret page</html>');
    } catch (caught) {
      error = caught;
    }
    const failure = classify(error);
    expect(failure.type).toBe(ErrorType.ModelBadResponse);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('model answered off-spec: the response body is not valid JSON');
  });

  it("repeats at most 1 KiB of the provider's message, and the size of the whole", () => {
    const error = OpenAI.APIError.generate(400, { error: { message: 'é'.repeat(10_000) } }, undefined, new Headers());
    const failure = classify(error);
    expect(failure.message).toMatch(/^model endpoint answered 400: é+… \(20000 bytes\)$/);
    expect(Buffer.byteLength(failure.message)).toBeLessThanOrEqual(PROVIDER_MESSAGE_MAX_BYTES + 60);
    expect(classify(new Error('x'.repeat(5_000))).message).toBe(
      `model call failed: ${'x'.repeat(1_024)}… (5000 bytes)`,
    );
  });

  describe('one line, whatever the provider sends', () => {
    const pydantic = [
      '2 validation errors for CreateChatCompletionRequest',
      'messages.2.typed-dict.content',
      '  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]',
      '    For further information visit https://errors.pydantic.dev/2.11/v/string_type',
    ].join('\n');

    it("folds a multi-line body (llama-cpp-python's validation list) into one line", () => {
      const failure = classify(
        OpenAI.APIError.generate(500, { error: { message: pydantic } }, undefined, new Headers()),
      );
      expect(failure.message).toBe(
        'model endpoint answered 500: 2 validation errors for CreateChatCompletionRequest ' +
          'messages.2.typed-dict.content Input should be a valid string [type=string_type, input_value=None, ' +
          'input_type=NoneType] For further information visit https://errors.pydantic.dev/2.11/v/string_type',
      );
      expect(oneLine('a\r\n  b\n\nc\u2028d')).toBe('a b c d');
    });

    it('a message that is not text is shown as JSON', () => {
      const error = OpenAI.APIError.generate(
        500,
        { error: { message: [{ loc: ['body'] }] } },
        undefined,
        new Headers(),
      );
      expect(classify(error).message).toBe('model endpoint answered 500: [{"loc":["body"]}]');
    });

    it('a connection closed under the answer is said so, streamed or not', () => {
      const terminated = Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } });
      for (const error of [terminated, Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })]) {
        const failure = classify(error);
        expect(failure.type).toBe(ErrorType.ModelUnavailable);
        expect(failure.message).toBe(`model call failed: ${CUT_CONNECTION}`);
      }
      expect(CUT_CONNECTION).toBe('the endpoint closed the connection mid-answer');
    });

    it('an error event mid-stream reads as the same error answered unstreamed', () => {
      const body = {
        code: 500,
        message: 'The model produced output that does not match the expected peg-native format',
        type: 'server_error',
      };
      const unstreamed = classify(OpenAI.APIError.generate(500, { error: body }, undefined, new Headers()));
      // What the client throws for an SSE `error` event: no status, the event's body.
      const streamed = classify(new OpenAI.APIError(undefined, body, undefined, new Headers()));
      expect(streamed.message).toBe(unstreamed.message);
      expect(streamed.type).toBe(unstreamed.type);
      expect(unstreamed.message).toBe(`model endpoint answered 500: ${body.message}`);
    });
  });

  describe('output the server could not parse', () => {
    it.each([
      'The model produced output that does not match the expected peg-native format',
      'Failed to parse tool call arguments as JSON',
    ])('"%s" is a retryable ModelOutputUnparsed', (message) => {
      const failure = classify(OpenAI.APIError.generate(500, { error: { message } }, undefined, new Headers()));
      expect(failure.type).toBe(ErrorType.ModelOutputUnparsed);
      expect(failure.nonRetryable).toBe(false);
    });
  });

  describe('a request past the context window', () => {
    it.each<[string, object, number | null, number | null]>([
      [
        "llama-server's exceed_context_size_error",
        {
          code: 400,
          message: 'request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it',
          type: 'exceed_context_size_error',
          n_prompt_tokens: 5000,
          n_ctx: 4096,
        },
        5000,
        4096,
      ],
      [
        "vLLM's maximum context length",
        {
          message:
            "This model's maximum context length is 2048 tokens. However, you requested 3000 tokens (3000 in the messages, 0 in the completion). Please reduce the length of the messages or completion.",
          type: 'BadRequestError',
          code: 400,
        },
        3000,
        2048,
      ],
      ["OpenAI's context_length_exceeded", { message: 'too long', code: 'context_length_exceeded' }, null, null],
    ])('%s is a non-retryable ModelBadRequest with the numbers it said', (_case, body, requestTokens, windowTokens) => {
      const failure = classify(OpenAI.APIError.generate(400, { error: body }, undefined, new Headers()));
      expect(failure.type).toBe(ErrorType.ModelBadRequest);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.details).toEqual([{ contextExceeded: true, requestTokens, windowTokens }]);
    });

    it('any other 400 carries no details', () => {
      expect(classify(apiError(400)).details ?? []).toEqual([]);
    });
  });

  describe("OpenAI's endpoint without a key", () => {
    const openAI = 'https://api.openai.com/v1';

    it('unreachable: the failure names the two fixes', () => {
      const error = new OpenAI.APIConnectionError({
        message: 'Connection error.',
        cause: Object.assign(new Error('getaddrinfo ENOTFOUND api.openai.com'), {
          code: 'ENOTFOUND',
          hostname: 'api.openai.com',
        }),
      });
      const failure = classify(error, { endpoint: openAI, apiKeySet: false });
      expect(failure.type).toBe(ErrorType.ModelUnreachable);
      expect(failure.message).toBe(`model endpoint ${openAI} unreachable: ENOTFOUND api.openai.com (${NO_KEY_FIXES})`);
      expect(NO_KEY_FIXES).toMatch(/set OPENAI_API_KEY|OPENAI_API_KEY is set: set it/);
      expect(NO_KEY_FIXES).toContain('--offline');
    });

    it('a 401 names them too; with a key, or at another endpoint, neither does', () => {
      expect(classify(apiError(401), { endpoint: openAI, apiKeySet: false }).message).toContain(NO_KEY_FIXES);
      expect(classify(apiError(401), { endpoint: openAI, apiKeySet: true }).message).not.toContain(NO_KEY_FIXES);
      const local = new OpenAI.APIConnectionError({ message: 'Connection error.' });
      expect(classify(local, { endpoint: 'http://127.0.0.1:8080/v1', apiKeySet: false }).message).not.toContain(
        NO_KEY_FIXES,
      );
    });
  });

  it.each([
    ['an APIUserAbortError', new OpenAI.APIUserAbortError()],
    ['a CancelledFailure', new CancelledFailure('activity cancelled')],
  ])('returns %s unchanged', (_case, error) => {
    expect(classifyModelError(error)).toBe(error);
  });

  // The converter copies `stack` into the failure the run's history records: it would be this worker's file paths.
  it.each([
    ['a 401', apiError(401)],
    ['a 429', apiError(429, { 'retry-after': '1' })],
    ['a 503', apiError(503)],
    ['a connection error', new OpenAI.APIConnectionError({ message: 'ECONNREFUSED' })],
    ['a plain Error', new Error('boom')],
  ])('records %s in history without a stack trace', (_case, error) => {
    const failure = classify(error);
    const recorded = defaultFailureConverter.errorToFailure(failure, defaultPayloadConverter);
    expect(recorded.message).toBe(failure.message);
    expect(recorded.applicationFailureInfo?.type).toBe(failure.type);
    expect(recorded.stackTrace).toBe('');
    expect(recorded.cause).toBeUndefined();
  });
});

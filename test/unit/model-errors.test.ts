import {
  ApplicationFailure,
  CancelledFailure,
  defaultFailureConverter,
  defaultPayloadConverter,
} from '@temporalio/common';
import OpenAI from 'openai';
import { classifyModelError, PROVIDER_MESSAGE_MAX_BYTES } from '../../activities/model-errors';
import { ErrorType } from '../../src/errors';

function apiError(status: number, headers: Record<string, string> = {}): InstanceType<typeof OpenAI.APIError> {
  return OpenAI.APIError.generate(
    status,
    { error: { message: 'provider says no' } },
    'provider says no',
    new Headers(headers),
  );
}

function classify(error: unknown): ApplicationFailure {
  const failure = classifyModelError(error);
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

  it("repeats at most 1 KiB of the provider's message", () => {
    const error = OpenAI.APIError.generate(400, { error: { message: 'é'.repeat(10_000) } }, undefined, new Headers());
    const failure = classify(error);
    expect(failure.message).toMatch(/^model endpoint answered 400: é+…$/);
    expect(Buffer.byteLength(failure.message)).toBeLessThanOrEqual(PROVIDER_MESSAGE_MAX_BYTES + 40);
    expect(classify(new Error('x'.repeat(5_000))).message).toHaveLength('model call failed: '.length + 1_024 + 1);
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

/**
 * Maps what the `openai` client throws to typed Temporal failures: retryable where waiting can help,
 * non-retryable (ending the run) where it cannot.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import { truncateUtf8, utf8Bytes } from '../src/validation';

/** At most this much of what the provider wrote is repeated in a failure's message (and so in the run's history). */
export const PROVIDER_MESSAGE_MAX_BYTES = 1_024;

function bounded(text: string): string {
  return utf8Bytes(text) <= PROVIDER_MESSAGE_MAX_BYTES ? text : `${truncateUtf8(text, PROVIDER_MESSAGE_MAX_BYTES)}…`;
}

function retryAfterMs(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const secondsValue = Number(value);
  if (Number.isFinite(secondsValue)) return secondsValue > 0 ? secondsValue * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) || undefined : undefined;
}

/** The details of a `ModelRateLimited` failure. */
export interface RateLimitDetails {
  /** The delay the provider asked for (`retry-after-ms`, `retry-after`), or null. */
  retryAfterMs: number | null;
}

const statusTypes: Record<number, ErrorType> = {
  400: ErrorType.ModelBadRequest,
  401: ErrorType.ModelAuthError,
  403: ErrorType.ModelAuthError,
  404: ErrorType.ModelNotFound,
  422: ErrorType.ModelBadRequest,
};

/** The failure to throw from the activity for an error raised by the `openai` client. */
export function classifyModelError(error: unknown): Error {
  // Cancellation stays what it is, so the worker reports the call cancelled rather than failed.
  if (error instanceof CancelledFailure) return error;
  if (error instanceof OpenAI.APIUserAbortError) return error;
  return withoutStack(modelFailure(error));
}

function modelFailure(error: unknown): ApplicationFailure {
  // By name: the parser's error may come from another realm (fetch's own), where instanceof fails.
  if ((error as Error | undefined)?.name === 'SyntaxError') {
    // The endpoint said JSON but sent something else; the parser's message would quote the body.
    return ApplicationFailure.retryable(
      'model answered off-spec: the response body is not valid JSON',
      ErrorType.ModelBadResponse,
    );
  }
  if (error instanceof OpenAI.APIConnectionError) {
    // Includes APIConnectionTimeoutError: the request timed out or never reached the endpoint.
    return ApplicationFailure.retryable(
      `model endpoint unreachable: ${bounded(error.message)}`,
      ErrorType.ModelUnreachable,
    );
  }
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) {
    return ApplicationFailure.retryable(
      `model call failed: ${bounded(String((error as Error)?.message ?? error))}`,
      ErrorType.ModelUnavailable,
    );
  }
  const { status } = error;
  const providerMessage = (error.error as { message?: unknown } | undefined)?.message;
  const message = `model endpoint answered ${status}: ${bounded(typeof providerMessage === 'string' ? providerMessage : error.message)}`;
  if (status === 429) {
    // The run retries 429s itself, on a time budget of their own: it reads the provider's delay here.
    const delayMs = retryAfterMs(error.headers);
    return ApplicationFailure.create({
      message,
      type: ErrorType.ModelRateLimited,
      nextRetryDelay: delayMs,
      details: [{ retryAfterMs: delayMs ?? null } satisfies RateLimitDetails],
    });
  }
  if (status === 408 || status === 409 || status >= 500) {
    return ApplicationFailure.retryable(message, ErrorType.ModelUnavailable);
  }
  return ApplicationFailure.nonRetryable(message, statusTypes[status] ?? ErrorType.ModelRequestRejected);
}

/**
 * Maps what the `openai` client throws to typed Temporal failures: retryable where waiting can help,
 * non-retryable (ending the run) where it cannot.
 */
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';

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
  if (error instanceof OpenAI.APIConnectionError) {
    // Includes APIConnectionTimeoutError: the request timed out or never reached the endpoint.
    return ApplicationFailure.retryable(`model endpoint unreachable: ${error.message}`, ErrorType.ModelUnreachable);
  }
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) {
    return ApplicationFailure.retryable(
      `model call failed: ${(error as Error)?.message ?? error}`,
      ErrorType.ModelUnavailable,
    );
  }
  const { status } = error;
  const providerMessage = (error.error as { message?: unknown } | undefined)?.message;
  const message = `model endpoint answered ${status}: ${typeof providerMessage === 'string' ? providerMessage : error.message}`;
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

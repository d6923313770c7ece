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

/**
 * An endpoint as it may be shown (in a failure, in the worker's log): scheme, host, port and path,
 * without the user name, password, query and fragment, which may hold credentials.
 */
export function displayEndpoint(baseURL: string): string {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return '(an invalid URL)';
  }
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  // `new URL` adds a `/` to a bare origin: keep the URL as it was written.
  return url.pathname === '/' && !baseURL.replace(/[?#].*$/s, '').endsWith('/') ? shown.slice(0, -1) : shown;
}

/** `text` with the credentials and queries of any URLs in it removed (fetch quotes a URL with credentials). */
function withoutUrlSecrets(text: string): string {
  return text
    .replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi, '$1')
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#]*)[?#]\S*/gi, '$1');
}

/** Where a connection went: `127.0.0.1:443`, `[::1]:8080`, or a host name that did not resolve. */
function peerOf(error: { address?: unknown; port?: unknown; hostname?: unknown }): string | undefined {
  if (typeof error.address === 'string') {
    const host = error.address.includes(':') ? `[${error.address}]` : error.address;
    return typeof error.port === 'number' ? `${host}:${error.port}` : host;
  }
  return typeof error.hostname === 'string' ? error.hostname : undefined;
}

interface SystemErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/**
 * Why a request never got an answer, from the errors beneath the client's "Connection error.": the
 * system error's code and where it was going (`ECONNREFUSED 127.0.0.1:29999`, `ENOTFOUND api.example`),
 * or the innermost message when no cause has a code.
 */
function connectionCause(error: Error): string {
  const chain: SystemErrorLike[] = [];
  for (let cause: unknown = error; cause && typeof cause === 'object' && chain.length < 8;) {
    chain.push(cause as SystemErrorLike);
    cause = (cause as SystemErrorLike).cause;
  }
  const coded = chain.find((cause) => typeof cause.code === 'string');
  if (coded) {
    // Trying several addresses (IPv6 and IPv4) ends in an AggregateError: its errors say where.
    const attempts = Array.isArray(coded.errors) ? (coded.errors as SystemErrorLike[]) : [coded];
    const peers = [...new Set(attempts.map(peerOf).filter((peer): peer is string => Boolean(peer)))];
    if (peers.length) return `${String(coded.code)} ${peers.join(', ')}`;
    const message = typeof coded.message === 'string' ? coded.message : '';
    return message && !message.includes(String(coded.code))
      ? `${String(coded.code)}: ${message}`
      : message || String(coded.code);
  }
  const innermost = chain.at(-1);
  return typeof innermost?.message === 'string' && innermost.message ? innermost.message : error.message;
}

/** What the activity knows of the call that failed, for the failure's message. */
export interface ModelCallContext {
  /** The client's base URL; shown without credentials or query. */
  endpoint?: string;
  /** The request timeout the client was given, named when the request timed out. */
  requestTimeoutMs?: number;
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
export function classifyModelError(error: unknown, call: ModelCallContext = {}): Error {
  // Cancellation stays what it is, so the worker reports the call cancelled rather than failed.
  if (error instanceof CancelledFailure) return error;
  if (error instanceof OpenAI.APIUserAbortError) return error;
  return withoutStack(modelFailure(error, call));
}

function unreachableMessage(error: InstanceType<typeof OpenAI.APIConnectionError>, call: ModelCallContext): string {
  const endpoint = call.endpoint === undefined ? 'model endpoint' : `model endpoint ${displayEndpoint(call.endpoint)}`;
  const why =
    error instanceof OpenAI.APIConnectionTimeoutError
      ? `timed out${call.requestTimeoutMs === undefined ? '' : ` after ${call.requestTimeoutMs} ms`}`
      : connectionCause(error);
  return bounded(`${endpoint} unreachable: ${withoutUrlSecrets(why)}`);
}

function modelFailure(error: unknown, call: ModelCallContext): ApplicationFailure {
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
    return ApplicationFailure.retryable(unreachableMessage(error, call), ErrorType.ModelUnreachable);
  }
  if (!(error instanceof OpenAI.APIError) || error.status === undefined) {
    return ApplicationFailure.retryable(
      `model call failed: ${bounded(withoutUrlSecrets(String((error as Error)?.message ?? error)))}`,
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

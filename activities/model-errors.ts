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

/**
 * `text` as one line (each line break, with the spaces around it, folded to one space: a server's
 * multi-line error, a validation list, must not break the worker's one line per failed attempt),
 * cut past `PROVIDER_MESSAGE_MAX_BYTES` with the size of the whole.
 */
export function oneLine(text: string): string {
  const folded = text.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ').trim();
  if (utf8Bytes(folded) <= PROVIDER_MESSAGE_MAX_BYTES) return folded;
  return `${truncateUtf8(folded, PROVIDER_MESSAGE_MAX_BYTES)}… (${utf8Bytes(text)} bytes)`;
}

const bounded = oneLine;

/** What a cut stream says, streamed or not (undici says `terminated`). */
export const CUT_CONNECTION = 'the endpoint closed the connection mid-answer';

/** The failure of an answer whose connection closed before the answer was whole. */
export function cutConnection(): ApplicationFailure {
  return withoutStack(ApplicationFailure.retryable(`model call failed: ${CUT_CONNECTION}`, ErrorType.ModelUnavailable));
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
export function withoutUrlSecrets(text: string): string {
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
  /** Whether the worker has an `OPENAI_API_KEY`: without one, a failure at OpenAI's own endpoint says how to go on. */
  apiKeySet?: boolean;
}

/** OpenAI's endpoint, the client's default when `OPENAI_BASE_URL` is unset. */
function isOpenAIDefault(endpoint: string | undefined): boolean {
  try {
    return endpoint !== undefined && new URL(endpoint).hostname === 'api.openai.com';
  } catch {
    return false;
  }
}

/** The two ways on, for a worker that calls OpenAI's endpoint without a key. */
export const NO_KEY_FIXES =
  'no OPENAI_API_KEY is set: set it, or run the worker with --offline (the offline demo model, no key or network)';

/** `message`, with the fixes when the call went to OpenAI's endpoint without a key. */
function withKeyHint(message: string, call: ModelCallContext): string {
  return call.apiKeySet === false && isOpenAIDefault(call.endpoint) ? `${message} (${NO_KEY_FIXES})` : message;
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
  return withKeyHint(bounded(`${endpoint} unreachable: ${withoutUrlSecrets(why)}`), call);
}

/**
 * The details of a `ModelBadRequest` that says the request passed the model's context window (each
 * server's wording): the run compacts the conversation and asks once more before it fails.
 */
export interface ContextExceededDetails {
  contextExceeded: true;
  /** The request's tokens, when the server said. */
  requestTokens: number | null;
  /** The context window, when the server said (llama-server's `n_ctx`, vLLM's maximum context length). */
  windowTokens: number | null;
}

/** What llama-server answers when it cannot parse what the model wrote into a message or tool calls. */
const UNPARSED_OUTPUT =
  /does not match the expected [\w-]+ format|(?:failed|unable) to parse (?:the )?(?:model(?:'s)? output|tool call)|error parsing tool call/i;

/** A 400 that says the context window is exceeded, in the words of llama-server, vLLM, OpenAI, LiteLLM. */
const CONTEXT_EXCEEDED =
  /exceeds? the available context size|maximum context length|context length exceeded|context_length_exceeded|context ?window ?exceeded|prompt is too long/i;

/** A number the server put in its error body (llama-server's `n_prompt_tokens`, `n_ctx`). */
function countIn(body: Record<string, unknown>, key: string): number | null {
  const value = body[key];
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : null;
}

function firstCount(text: string, patterns: RegExp[]): number | null {
  for (const pattern of patterns) {
    const match = pattern.exec(text);
    if (match) return Number(match[1]);
  }
  return null;
}

/** The details of a context-window 400, if `body` and `message` say that is what it is. */
export function contextExceeded(body: Record<string, unknown>, message: string): ContextExceededDetails | undefined {
  const said = [body.type, body.code].some(
    (value) => value === 'exceed_context_size_error' || value === 'context_length_exceeded',
  );
  if (!said && !CONTEXT_EXCEEDED.test(message)) return undefined;
  return {
    contextExceeded: true,
    requestTokens:
      countIn(body, 'n_prompt_tokens') ??
      firstCount(message, [
        /request \((\d+) tokens\)/i,
        /(?:you requested|your request has|resulted in) (\d+) (?:input )?tokens/i,
      ]),
    windowTokens:
      countIn(body, 'n_ctx') ??
      firstCount(message, [/available context size \((\d+) tokens\)/i, /maximum context length is (\d+) tokens/i]),
  };
}

/** What `error` says the endpoint answered: its status (for an error sent mid-stream, its body's code) and body. */
function answered(
  error: unknown,
): { status: number | undefined; body: Record<string, unknown>; headers?: Headers } | undefined {
  if (!(error instanceof OpenAI.APIError)) return undefined;
  const body = (typeof error.error === 'object' && error.error !== null ? error.error : {}) as Record<string, unknown>;
  if (error.status !== undefined) return { status: error.status, body, headers: error.headers };
  // Mid-stream, an endpoint can only send an error event (llama-server: its HTTP error body, code included).
  if (!('message' in body)) return undefined;
  const code = Number(body.code);
  return { status: Number.isInteger(code) && code >= 400 && code < 600 ? code : undefined, body };
}

/** The provider's message: its body's `message` (any JSON, as text), else the client's. */
function providerMessage(error: Error, body: Record<string, unknown>): string {
  const { message } = body;
  if (typeof message === 'string') return message;
  return message === undefined ? error.message : (JSON.stringify(message) ?? String(message));
}

/** Whether `error` is the connection closing under an answer being read (undici's `terminated`). */
export function isCutConnection(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof OpenAI.APIError) return false;
  if (error.name === 'TypeError' && error.message === 'terminated') return true;
  const code = (error as { code?: unknown }).code ?? (error.cause as { code?: unknown } | undefined)?.code;
  return code === 'UND_ERR_SOCKET' || code === 'ECONNRESET';
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
  if (isCutConnection(error)) return cutConnection();
  const reply = answered(error);
  if (!reply) {
    return ApplicationFailure.retryable(
      `model call failed: ${bounded(withoutUrlSecrets(String((error as Error)?.message ?? error)))}`,
      ErrorType.ModelUnavailable,
    );
  }
  const { status, body } = reply;
  const said = providerMessage(error as Error, body);
  const message = `model endpoint answered ${status ?? 'an error mid-answer'}: ${bounded(said)}`;
  if (status === undefined || status === 408 || status === 409 || status >= 500) {
    // The server could not read what the model wrote: asking again may get words it can read.
    if (UNPARSED_OUTPUT.test(said)) return ApplicationFailure.retryable(message, ErrorType.ModelOutputUnparsed);
    return ApplicationFailure.retryable(message, ErrorType.ModelUnavailable);
  }
  if (status === 429) {
    // The run retries 429s itself, on a time budget of their own: it reads the provider's delay here.
    const delayMs = retryAfterMs(reply.headers);
    return ApplicationFailure.create({
      message,
      type: ErrorType.ModelRateLimited,
      nextRetryDelay: delayMs,
      details: [{ retryAfterMs: delayMs ?? null } satisfies RateLimitDetails],
    });
  }
  const type = statusTypes[status] ?? ErrorType.ModelRequestRejected;
  const exceeded = status === 400 || status === 413 ? contextExceeded(body, said) : undefined;
  if (exceeded)
    return ApplicationFailure.create({
      message,
      type: ErrorType.ModelBadRequest,
      nonRetryable: true,
      details: [exceeded],
    });
  return ApplicationFailure.nonRetryable(
    type === ErrorType.ModelAuthError ? withKeyHint(message, call) : message,
    type,
  );
}

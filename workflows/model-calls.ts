/**
 * A model call as the run makes it: 429s retried on a time budget of their own (after the delay the
 * provider asks for), then the next fallback model when the retries of a retryable failure are spent.
 * The last model that is down is retried on a time budget too (`MODEL_UNAVAILABLE_SECONDS`: a model
 * server restarting must not fail the run), output the server could not parse is asked for again a
 * few times, and a request past the context window comes back to the caller to shorten.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, log, sleep, TimeoutFailure } from '@temporalio/workflow';
import type { ModelCallResult } from '../activities';
import type { ContextExceededDetails, RateLimitDetails } from '../activities/model-errors';
import {
  DEFAULT_MODEL_RATE_LIMIT_SECONDS,
  DEFAULT_MODEL_UNAVAILABLE_SECONDS,
  DEFAULT_MODEL_UNPARSED_ATTEMPTS,
  LONGEST_MODEL_OUTAGE_DELAY_SECONDS,
} from '../src/defaults';
import { ErrorType } from '../src/errors';
import { describeFailure } from '../src/failures';
import { costOf } from '../src/pricing';
import type { TranscriptCarrier } from '../src/transcript-replay';
import type { AgentSpec, ChatMessage } from '../src/types';
import { hasPatch, Patch } from './patch-checks';
import { runFailure } from './run-failures';
import type { TranscriptSender } from './transcript-sender';

/** Failures that another model might not have: the provider is down, slow, throttling, or garbled. */
const FALLBACK_TYPES: readonly string[] = [
  ErrorType.ModelUnavailable,
  ErrorType.ModelUnreachable,
  ErrorType.ModelRateLimited,
  ErrorType.ModelBadResponse,
  ErrorType.ModelOutputUnparsed,
];

/** Failures of a model that is down, or whose connection broke: waiting may help (timeouts too). */
const OUTAGE_TYPES: readonly string[] = [ErrorType.ModelUnavailable, ErrorType.ModelUnreachable];

const FIRST_RATE_LIMIT_DELAY_MS = 1_000;
const LONGEST_RATE_LIMIT_DELAY_MS = 60_000;
const FIRST_OUTAGE_DELAY_MS = 1_000;

/**
 * One call of a model activity (a step, or a summary) to `model`, with the transcript as `carrier`
 * holds it; `fallback` marks a call to a fallback model.
 */
export type ModelInvoker = (
  model: string,
  carrier: TranscriptCarrier,
  options: { fallback: boolean; deadlineMs?: number },
) => Promise<ModelCallResult>;

/** How the calls of one model request are made: the run's transcript sender, and the deadline if any. */
export interface ModelCallOptions {
  transcripts: TranscriptSender;
  deadlineMs?: number;
}

/**
 * The answer, or `deadline` when the call's deadline passed before any model answered; in runs with
 * `Patch.modelOutagesByTime`, `unparsed` when the server could not parse the last model's output as
 * often as a call may ask (the caller asks for an answer without tools, or fails); in runs with
 * `Patch.contextExceededCompacts`, `contextExceeded` when the request passed the model's context
 * window (the caller shortens the conversation and asks once more, or fails). Each carries the failure.
 */
export type ModelCallOutcome =
  | { response: ModelCallResult }
  | { deadline: true }
  | { unparsed: true; failure: unknown }
  | { contextExceeded: ContextExceededDetails; failure: unknown };

/** What one model's tries ended with when it gave no answer: the failure, and what kind when that matters. */
type ModelFailure = { failure: unknown; unparsed?: true; contextExceeded?: ContextExceededDetails };

/** The ApplicationFailure behind an activity failure, if there is one. */
function applicationCause(error: unknown): ApplicationFailure | undefined {
  return error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
}

/** The delay a 429 asked for, from its details. */
function retryAfterMs(failure: ApplicationFailure): number | undefined {
  const details = failure.details?.[0] as RateLimitDetails | undefined;
  return typeof details?.retryAfterMs === 'number' && details.retryAfterMs > 0 ? details.retryAfterMs : undefined;
}

/** Whether `error` is a failure a fallback model might not have (timeouts included). */
function fallsBack(error: unknown): boolean {
  if (error instanceof ActivityFailure && error.cause instanceof TimeoutFailure) return true;
  return FALLBACK_TYPES.includes(describeFailure(error).type ?? '');
}

/** Whether `error` says the model is down or out of reach (a timeout, a 5xx, a refused or cut connection). */
function isOutage(error: unknown): boolean {
  if (error instanceof ActivityFailure && error.cause instanceof TimeoutFailure) return true;
  return OUTAGE_TYPES.includes(describeFailure(error).type ?? '');
}

/** The details of a failure that says the request passed the context window, if it is one. */
function contextExceededOf(failure: ApplicationFailure | undefined): ContextExceededDetails | undefined {
  const details = failure?.details?.[0] as Partial<ContextExceededDetails> | undefined;
  return failure?.type === ErrorType.ModelBadRequest && details?.contextExceeded === true
    ? (details as ContextExceededDetails)
    : undefined;
}

/** How long to wait before trying again, growing to a bound: one per kind of trouble. */
class Backoff {
  constructor(
    private delayMs: number,
    private readonly longestMs: number,
  ) {}

  next(): number {
    const waitMs = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.longestMs);
    return waitMs;
  }
}

/**
 * One model's answer, its 429s retried while their budget and the deadline allow (and, in runs with
 * `Patch.modelOutagesByTime`, an outage of the `last` model while the outage budget allows, and
 * output the server could not parse a few times); or its failure.
 */
async function callRetrying(
  spec: AgentSpec,
  model: string,
  messages: readonly ChatMessage[],
  invoke: ModelInvoker,
  { transcripts, last, ...options }: ModelCallOptions & { fallback: boolean; last: boolean },
): Promise<Exclude<ModelCallOutcome, { unparsed: true } | { contextExceeded: ContextExceededDetails }> | ModelFailure> {
  const rateBudgetMs = spec.modelCall.rateLimitBudgetMs ?? DEFAULT_MODEL_RATE_LIMIT_SECONDS * 1000;
  const outageBudgetMs = spec.modelCall.unavailableBudgetMs ?? DEFAULT_MODEL_UNAVAILABLE_SECONDS * 1000;
  const unparsedAttempts = spec.modelCall.unparsedAttempts ?? DEFAULT_MODEL_UNPARSED_ATTEMPTS;
  const rateLimits = new Backoff(FIRST_RATE_LIMIT_DELAY_MS, LONGEST_RATE_LIMIT_DELAY_MS);
  const outages = new Backoff(FIRST_OUTAGE_DELAY_MS, LONGEST_MODEL_OUTAGE_DELAY_SECONDS * 1000);
  let throttledSinceMs: number | undefined;
  let downSinceMs: number | undefined;
  let unparsed = 0;
  for (;;) {
    const triedAtMs = Date.now();
    try {
      return { response: await transcripts.send(messages, (carrier) => invoke(model, carrier, options)) };
    } catch (error) {
      if (isCancellation(error)) throw error;
      if (options.deadlineMs !== undefined && Date.now() >= options.deadlineMs) return { deadline: true };
      const failure = applicationCause(error);
      // Each check of a patch comes only where the run's path would change, so other runs record no marker.
      const exceeded = contextExceededOf(failure);
      if (exceeded)
        return hasPatch(spec, Patch.contextExceededCompacts)
          ? { failure: error, contextExceeded: exceeded }
          : { failure: error };
      if (failure?.type === ErrorType.ModelOutputUnparsed && hasPatch(spec, Patch.modelOutagesByTime)) {
        // What the model wrote varies from one try to the next: ask again at once, a few times.
        unparsed += 1;
        if (unparsed >= unparsedAttempts) return { failure: error, unparsed: true };
        log.warn('the model server could not parse the model output; asking again', { model, unparsed });
        continue;
      }
      let waitMs: number;
      let sinceMs: number;
      let budgetMs: number;
      if (failure?.type === ErrorType.ModelRateLimited) {
        throttledSinceMs ??= Date.now();
        waitMs = retryAfterMs(failure) ?? rateLimits.next();
        [sinceMs, budgetMs] = [throttledSinceMs, rateBudgetMs];
      } else if (last && isOutage(error) && hasPatch(spec, Patch.modelOutagesByTime)) {
        // The call's attempts are spent and no other model is left: a server that is down may come back.
        downSinceMs ??= triedAtMs;
        waitMs = outages.next();
        [sinceMs, budgetMs] = [downSinceMs, outageBudgetMs];
      } else {
        return { failure: error };
      }
      const retryAtMs = Date.now() + waitMs;
      if (retryAtMs >= (options.deadlineMs ?? Infinity)) return { failure: error };
      if (retryAtMs - sinceMs > budgetMs) {
        // The budget is time the trouble may last: the last try comes at its end, not a backoff early.
        const leftMs = sinceMs + budgetMs - Date.now();
        if (leftMs <= 0 || !hasPatch(spec, Patch.retriesUseWholeBudget)) return { failure: error };
        waitMs = leftMs;
      }
      await sleep(waitMs);
    }
  }
}

/**
 * `response` costed at the prices the run recorded (`spec.prices`), the table its cost budget
 * estimates with: one price source for a run, whatever prices the worker that made the call has.
 */
function atRecordedPrices(spec: AgentSpec, response: ModelCallResult): ModelCallResult {
  if (!hasPatch(spec, Patch.spendAtRecordedPrices)) return response;
  // Cached input at the cached price the run recorded; a spec recorded before cached prices has none,
  // so its cached tokens cost the input price, as they did.
  const { costUsd, known } = costOf(spec.prices ?? {}, response.model, response);
  return { ...response, costUsd, costKnown: known };
}

/**
 * Calls the spec's model over `messages`, then each fallback model in turn, until one answers; throws
 * the run's failure when none does. With `deadlineMs`, no call or wait passes it.
 */
export async function callModelWithFallback(
  spec: AgentSpec,
  messages: readonly ChatMessage[],
  invoke: ModelInvoker,
  options: ModelCallOptions,
): Promise<ModelCallOutcome> {
  const models = [spec.model, ...(spec.fallbackModels ?? [])];
  for (let index = 0; ; index += 1) {
    const model = models[index];
    const next = models[index + 1];
    const outcome = await callRetrying(spec, model, messages, invoke, {
      ...options,
      fallback: index > 0,
      last: next === undefined,
    });
    if ('response' in outcome) return { response: atRecordedPrices(spec, outcome.response) };
    if (!('failure' in outcome)) return outcome;
    const { failure, unparsed, contextExceeded } = outcome;
    // Every model reads the same transcript: a request too long for one goes back to be shortened.
    if (contextExceeded) return { contextExceeded, failure };
    if (next === undefined && unparsed) return { unparsed, failure };
    if (next === undefined || !fallsBack(failure)) throw runFailure(failure);
    log.warn('model call failed; falling back', { model, next, failure: describeFailure(failure).message });
  }
}

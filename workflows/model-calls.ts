/**
 * A model call as the run makes it: 429s retried on a time budget of their own (after the delay the
 * provider asks for), then the next fallback model when the retries of a retryable failure are spent.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, log, sleep, TimeoutFailure } from '@temporalio/workflow';
import type { ModelCallResult } from '../activities';
import type { RateLimitDetails } from '../activities/model-errors';
import { DEFAULT_MODEL_RATE_LIMIT_SECONDS } from '../src/defaults';
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
];

const FIRST_RATE_LIMIT_DELAY_MS = 1_000;
const LONGEST_RATE_LIMIT_DELAY_MS = 60_000;

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

/** The answer, or `deadline` when the call's deadline passed before any model answered. */
export type ModelCallOutcome = { response: ModelCallResult } | { deadline: true };

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

/** One model's answer, its 429s retried while their budget and the deadline allow; or its failure. */
async function callRetryingRateLimits(
  spec: AgentSpec,
  model: string,
  messages: readonly ChatMessage[],
  invoke: ModelInvoker,
  { transcripts, ...options }: ModelCallOptions & { fallback: boolean },
): Promise<ModelCallOutcome | { failure: unknown }> {
  const budgetMs = spec.modelCall.rateLimitBudgetMs ?? DEFAULT_MODEL_RATE_LIMIT_SECONDS * 1000;
  let throttledSinceMs: number | undefined;
  let delayMs = FIRST_RATE_LIMIT_DELAY_MS;
  for (;;) {
    try {
      return { response: await transcripts.send(messages, (carrier) => invoke(model, carrier, options)) };
    } catch (error) {
      if (isCancellation(error)) throw error;
      if (options.deadlineMs !== undefined && Date.now() >= options.deadlineMs) return { deadline: true };
      const failure = applicationCause(error);
      if (failure?.type !== ErrorType.ModelRateLimited) return { failure: error };
      throttledSinceMs ??= Date.now();
      const waitMs = retryAfterMs(failure) ?? delayMs;
      delayMs = Math.min(delayMs * 2, LONGEST_RATE_LIMIT_DELAY_MS);
      const retryAtMs = Date.now() + waitMs;
      if (retryAtMs - throttledSinceMs > budgetMs || retryAtMs >= (options.deadlineMs ?? Infinity)) {
        return { failure: error };
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
  const { costUsd, known } = costOf(spec.prices ?? {}, response.model, response.inputTokens, response.outputTokens);
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
    const outcome = await callRetryingRateLimits(spec, model, messages, invoke, { ...options, fallback: index > 0 });
    if ('response' in outcome) return { response: atRecordedPrices(spec, outcome.response) };
    if (!('failure' in outcome)) return outcome;
    const next = models[index + 1];
    if (next === undefined || !fallsBack(outcome.failure)) throw runFailure(outcome.failure);
    log.warn('model call failed; falling back', { model, next, failure: describeFailure(outcome.failure).message });
  }
}

/**
 * Failures the run ends with. A workflow that throws anything but an ApplicationFailure only fails
 * its task, which Temporal retries forever; these helpers always produce the run's own failure.
 */
import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { Bounds } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { describeFailure, detailsOf, withoutStack } from '../src/failures';
import { usageSchema } from '../src/input';
import { Patch } from '../src/patches';
import type { AgentSpec, Usage } from '../src/types';

/** An activity's failure as the run's non-retryable failure, keeping its type and message. */
export function runFailure(error: unknown): ApplicationFailure {
  const { type, message } = describeFailure(error);
  return withoutStack(ApplicationFailure.create({ type, message, nonRetryable: true }));
}

/**
 * The run's failure for an error of its start (the spec's resolution, the continuation's proof). A
 * cancellation stays one: a cancel that came with the run's first task cancels the run.
 */
export function startFailure(error: unknown): Error {
  if (isCancellation(error) && patched(Patch.cancelledAtStart)) return error as Error;
  return runFailure(error);
}

/** What a sub-agent's failure carries for its parent: the usage of its whole tree. */
interface SubAgentFailureDetails {
  subAgentUsage: Usage;
}

/**
 * `error` (the run's failure) carrying `usage`, the run's tree's: a sub-agent's last report to its
 * parent, a signal sent in the task that fails the run, is dropped once the run has closed, so the
 * parent reads what the run spent from its failure. Any other error is returned as it is.
 */
export function failureWithUsage(error: unknown, usage: Usage): unknown {
  if (!(error instanceof ApplicationFailure) || error.details?.length) return error;
  const details: SubAgentFailureDetails[] = [{ subAgentUsage: usage }];
  const { type, message, nonRetryable, cause } = error;
  return withoutStack(
    ApplicationFailure.create({
      type: type ?? undefined,
      message,
      nonRetryable: nonRetryable ?? undefined,
      cause,
      details,
    }),
  );
}

/** The usage a failed sub-agent's failure carries (see `failureWithUsage`), if it is well-formed: the child's word. */
export function usageOfFailedSubAgent(error: unknown): Usage | undefined {
  const { type } = describeFailure(error);
  const details = detailsOf<SubAgentFailureDetails>(error, type ?? '');
  const usage = usageSchema.safeParse(details?.subAgentUsage);
  return usage.success ? usage.data : undefined;
}

/** Input the run cannot start with; the message names every bad field. */
export function invalidInput(problems: string): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({
      type: ErrorType.InvalidAgentInput,
      message: `invalid agentRun input: ${problems}`,
      nonRetryable: true,
    }),
  );
}

/**
 * Throws `PayloadTooLarge` if `bytes` (a payload's serialized size) pass the payload bound: the server
 * would reject the payload and the workflow task would fail forever, so the run ends with a typed
 * failure instead.
 */
export function ensurePayloadFits(what: string, bytes: number): void {
  if (bytes <= Bounds.payloadBytes) return;
  throw withoutStack(
    ApplicationFailure.create({
      type: ErrorType.PayloadTooLarge,
      message: `${what} would be ${bytes} bytes, over the ${Bounds.payloadBytes}-byte payload bound, even after compacting the transcript`,
      nonRetryable: true,
    }),
  );
}

/** `maxCostUsd` cannot be enforced: a model the run may call has no price. */
export function unpricedModel(spec: AgentSpec): ApplicationFailure {
  const models = [spec.model, ...(spec.fallbackModels ?? [])];
  const unpriced = models.filter((model) => !spec.prices || !Object.hasOwn(spec.prices, model));
  return withoutStack(
    ApplicationFailure.create({
      type: ErrorType.UnpricedModel,
      message: `maxCostUsd is set but ${unpriced.join(', ')} has no price, so the budget cannot be enforced: add it to MODEL_PRICES or drop maxCostUsd`,
      nonRetryable: true,
    }),
  );
}

/** The model answered with nothing, `count` times in a row. */
export function noAnswer(count: number): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({
      type: ErrorType.ModelNoAnswer,
      message: `the model answered with neither text nor a tool call ${count} times in a row`,
      nonRetryable: true,
    }),
  );
}

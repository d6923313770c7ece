/**
 * Reading Temporal failures: the workflow (an activity's failure) and the client (a run's failure)
 * both want the ApplicationFailure at the bottom of a failure chain. Workflow-safe.
 */
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';
import { ErrorType } from './errors';

/** Down `error`'s chain of Temporal failures (an activity's, a child run's) to its ApplicationFailure or its end. */
function innermostFailure(error: unknown): unknown {
  let cause: unknown = error;
  while (cause instanceof TemporalFailure && !(cause instanceof ApplicationFailure) && cause.cause) cause = cause.cause;
  return cause;
}

/**
 * The first detail of the ApplicationFailure of `type` behind `error`, read as what failures of that
 * type carry (fields may be missing: a detail is a worker's word); undefined for any other failure.
 */
export function detailsOf<T>(error: unknown, type: string): Partial<T> | undefined {
  const cause = innermostFailure(error);
  if (!(cause instanceof ApplicationFailure) || cause.type !== type) return undefined;
  return (cause.details?.[0] ?? {}) as Partial<T>;
}

/** The type and message of the ApplicationFailure behind `error`, or the message of the innermost failure. */
export function describeFailure(error: unknown): { type?: string; message: string } {
  const cause = innermostFailure(error);
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * `failure` without its stack, for failures thrown on purpose. Temporal's failure converter copies an
 * error's `stack` into the failure it records in history, and a JavaScript stack is this worker's
 * file paths: of no use to whoever reads the history, and not theirs to see. The type and message
 * say everything.
 */
export function withoutStack<E extends Error>(failure: E): E {
  failure.stack = '';
  return failure;
}

/** What an update's validator throws: the update is refused, typed and not retryable, and the run goes on. */
export function updateRejected(problem: string): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({ type: ErrorType.UpdateRejected, message: problem, nonRetryable: true }),
  );
}

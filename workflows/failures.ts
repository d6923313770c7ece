/**
 * Failures the run ends with. A workflow that throws anything but an ApplicationFailure only fails
 * its task, which Temporal retries forever; these helpers always produce the run's own failure.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import { ErrorType } from '../src/errors';
import { describeFailure } from '../src/failures';

/** An activity's failure as the run's non-retryable failure, keeping its type and message. */
export function runFailure(error: unknown): ApplicationFailure {
  const { type, message } = describeFailure(error);
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

/** Input the run cannot start with; the message names every bad field. */
export function invalidInput(problems: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: ErrorType.InvalidAgentInput,
    message: `invalid agentRun input: ${problems}`,
    nonRetryable: true,
  });
}

/**
 * How a run or an update ended, for tests that expect a failure: the failure itself, checked to be
 * of the kind a caller would see.
 */
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../src/errors';

const settled = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );

/** The ApplicationFailure the run failed with; fails the test if it completed or failed otherwise. */
export async function runFailureOf(handle: WorkflowHandle): Promise<ApplicationFailure> {
  const error = await settled(handle.result());
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

/**
 * The message an update was rejected (or failed) with, checked to be a non-retryable failure of
 * `type` (a validator's refusal by default); fails the test if it was accepted and answered.
 */
export async function updateRejectionOf(
  update: Promise<unknown>,
  type: string = ErrorType.UpdateRejected,
): Promise<string> {
  const error = await settled(update);
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (error as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type, nonRetryable: true });
  return (cause as ApplicationFailure).message;
}

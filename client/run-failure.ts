/**
 * How a closed run is told: why it closed without a result (and the kind of error `result()` throws
 * for it), and how it ended in words (`has already been cancelled`).
 */
import type { WorkflowExecutionStatusName, WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { ClientErrorKind } from '../src/errors';
import { describeFailure } from '../src/failures';
import { RunStatus } from '../src/types';
import { reportedStatus } from './run-status';
import type { RunFailure } from './run-types';

/** Why a run closed without a result, and the kind of error `result()` throws for it. */
export function runFailure(
  error: WorkflowFailedError,
  workflowId: string | undefined,
): { kind: ClientErrorKind; failure: RunFailure } {
  if (error.cause instanceof CancelledFailure) {
    const message = error.cause.message || 'cancelled';
    return { kind: ClientErrorKind.runCancelled, failure: { message, error: `run ${workflowId} was cancelled` } };
  }
  if (error.cause instanceof TerminatedFailure) {
    const message = error.cause.message || 'Workflow execution terminated';
    const reason = message !== 'Workflow execution terminated' ? `: ${message}` : '';
    return {
      kind: ClientErrorKind.runTerminated,
      failure: { message, error: `run ${workflowId} was terminated${reason}` },
    };
  }
  const { type, message } = describeFailure(error.cause);
  return {
    kind: ClientErrorKind.runFailed,
    failure: {
      ...(type && { type }),
      message,
      error: `run ${workflowId} ${type ? `failed with ${type}` : 'failed'}: ${message}`,
    },
  };
}

/** How a closed execution ended, after `has already`: `completed`, `failed`, `been cancelled`, ... */
export function closedWording(execution: WorkflowExecutionStatusName): string {
  const ended = reportedStatus(undefined, execution);
  return ended === RunStatus.completed || ended === RunStatus.failed || ended === 'timed_out'
    ? ended.replace('_', ' ')
    : `been ${ended}`;
}

/**
 * How long the run's history is, against what Temporal allows: a run continues as new while it can
 * (Temporal suggests it, or history passed the spec's size), and fails with `HistoryLimit` rather than
 * be terminated by the server at 50 MB or 51,200 events.
 */
import { ApplicationFailure, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_CONTINUE_AS_NEW_AT_BYTES, HISTORY_LIMITS } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import type { AgentSpec } from '../src/types';

/** Whether the run should continue as new at its next chance. */
export function historyIsLong(spec: AgentSpec): boolean {
  const { continueAsNewSuggested, historySize } = workflowInfo();
  return continueAsNewSuggested || historySize >= (spec.continueAsNewAtBytes ?? DEFAULT_CONTINUE_AS_NEW_AT_BYTES);
}

/** Throws `HistoryLimit` once the history is too near Temporal's limits to go on safely. */
export function ensureHistoryRoom(): void {
  const { historySize, historyLength } = workflowInfo();
  if (historySize < HISTORY_LIMITS.bytes && historyLength < HISTORY_LIMITS.events) return;
  throw withoutStack(
    ApplicationFailure.create({
      type: ErrorType.HistoryLimit,
      message:
        `the run's history reached ${historySize} bytes in ${historyLength} events, near Temporal's limits ` +
        `(50 MB, 51,200 events), and the run could not continue as new (a caller was waiting on an update)`,
      nonRetryable: true,
    }),
  );
}

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

/** A carried state this small is worth continuing with whenever Temporal suggests it. */
const CHEAP_CARRY_BYTES = 256 * 1024;
/** Otherwise a continuation must end a history this many times the size of what it carries. */
const CARRY_PAYBACK = 8;
/** Past this many events (Temporal's own warning) a run continues as new whatever it carries. */
const MANY_EVENTS = 10_240;

/** The history size past which a run that cannot continue as new fails: the spec's, at most ours. */
function historyLimitBytes(spec: AgentSpec): number {
  return Math.min(spec.historyLimitBytes ?? HISTORY_LIMITS.bytes, HISTORY_LIMITS.bytes);
}

/**
 * Whether a run that would carry `carriedBytes` (mostly its transcript) should continue as new between
 * two steps: when Temporal suggests it or its history passed the spec's size, and continuing pays. A
 * continuation records what it carries twice (in this run's last event and the next run's first), so
 * with a large transcript the run waits until the history it ends is 8 times that: boundaries more
 * frequent than that would make history grow with the square of the conversation again.
 */
export function historyIsLong(spec: AgentSpec, carriedBytes: number): boolean {
  const { continueAsNewSuggested, historySize, historyLength } = workflowInfo();
  // Nearing the limit, a continuation is better than the failure waiting further on, whatever it costs.
  if (historyLength >= MANY_EVENTS || historySize >= historyLimitBytes(spec) / 2) return true;
  const long = continueAsNewSuggested || historySize >= (spec.continueAsNewAtBytes ?? DEFAULT_CONTINUE_AS_NEW_AT_BYTES);
  if (!long) return false;
  return historySize >= CARRY_PAYBACK * carriedBytes || (continueAsNewSuggested && carriedBytes <= CHEAP_CARRY_BYTES);
}

/** Whether the history is too near Temporal's limits (or the spec's) to go on safely. */
export function historyAtLimit(spec: AgentSpec): boolean {
  const { historySize, historyLength } = workflowInfo();
  return historySize >= historyLimitBytes(spec) || historyLength >= HISTORY_LIMITS.events;
}

/** Throws `HistoryLimit` once the history is too near Temporal's limits (or the spec's) to go on safely. */
export function ensureHistoryRoom(spec: AgentSpec): void {
  if (!historyAtLimit(spec)) return;
  const { historySize, historyLength } = workflowInfo();
  const maxBytes = historyLimitBytes(spec);
  throw withoutStack(
    ApplicationFailure.create({
      type: ErrorType.HistoryLimit,
      message:
        `the run's history reached ${historySize} bytes in ${historyLength} events, past its limit of ` +
        `${maxBytes} bytes or ${HISTORY_LIMITS.events} events (Temporal terminates runs at 50 MB or 51,200), ` +
        'and it could not continue as new: a caller waits on an update for the turn in progress',
      nonRetryable: true,
    }),
  );
}

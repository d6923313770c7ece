/**
 * What status a run shows: its own `AgentStatus` while it tells the truth, Temporal's once it has
 * closed without saying how; and the visibility query that lists runs by it.
 */
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { searchAttributes, WorkflowType } from '../src/contract';
import { RunStatus } from '../src/types';

export interface ListFilter {
  status?: string;
  agent?: string;
  user?: string;
  limit?: number;
  /** Sub-agents' runs too (by default only runs no other run started: the roots of trees). */
  all?: boolean;
}

/** Statuses only an open run can have: a closed run still showing one was terminated or timed out. */
export const LIVE_STATUSES: readonly string[] = [
  RunStatus.starting,
  RunStatus.running,
  RunStatus.awaitingInput,
  RunStatus.awaitingApproval,
];

/** How a closed execution ended, for a run whose own status attribute did not say (terminated, timed out). */
const CLOSED_STATUSES: Partial<Record<WorkflowExecutionStatusName, string>> = {
  COMPLETED: RunStatus.completed,
  FAILED: RunStatus.failed,
  CANCELLED: RunStatus.cancelled,
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: RunStatus.continued,
};

/**
 * The status to show for a run: its `AgentStatus`, unless the run has closed without saying how
 * (it was terminated, timed out, or its attribute lags), in which case Temporal's own status.
 */
export function reportedStatus(attribute: string | undefined, execution: WorkflowExecutionStatusName): string {
  if (execution === 'RUNNING') return attribute ?? RunStatus.starting;
  if (attribute && !LIVE_STATUSES.includes(attribute)) return attribute;
  return CLOSED_STATUSES[execution] ?? execution.toLowerCase();
}

export const isRunStatus = (status: string): status is RunStatus =>
  (Object.values(RunStatus) as string[]).includes(status);

/** `value` as a quoted string of a visibility query. */
export const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** A Temporal visibility query for agent runs matching `filter`. */
export function listQuery(filter: ListFilter): string {
  const live = filter.status !== undefined && LIVE_STATUSES.includes(filter.status);
  return [
    `WorkflowType = ${quote(WorkflowType.agentRun)}`,
    // A chain that continued as new is one run to its callers: its latest execution stands for it.
    'ExecutionStatus != "ContinuedAsNew"',
    // A sub-agent's run belongs to its root's tree (`status <root>` shows it).
    ...(filter.all ? [] : ['ParentWorkflowId IS NULL']),
    ...(filter.status ? [`${searchAttributes.agentStatus.name} = ${quote(filter.status)}`] : []),
    // A terminated run keeps the status it had: only open runs are waiting or working.
    ...(live ? ['ExecutionStatus = "Running"'] : []),
    ...(filter.agent ? [`${searchAttributes.agentName.name} = ${quote(filter.agent)}`] : []),
    ...(filter.user ? [`${searchAttributes.agentUser.name} = ${quote(filter.user)}`] : []),
  ].join(' AND ');
}

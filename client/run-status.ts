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

/**
 * How a closed execution ended, for a run whose own status attribute did not say (terminated, timed
 * out): the status shown, by the execution's status as the SDK names it and as a visibility query does.
 */
const CLOSED_STATUSES: { execution: WorkflowExecutionStatusName; queried: string; status: string }[] = [
  { execution: 'COMPLETED', queried: 'Completed', status: RunStatus.completed },
  { execution: 'FAILED', queried: 'Failed', status: RunStatus.failed },
  { execution: 'CANCELLED', queried: 'Canceled', status: RunStatus.cancelled },
  { execution: 'TERMINATED', queried: 'Terminated', status: 'terminated' },
  { execution: 'TIMED_OUT', queried: 'TimedOut', status: 'timed_out' },
  { execution: 'CONTINUED_AS_NEW', queried: 'ContinuedAsNew', status: RunStatus.continued },
];

/**
 * Every status a listed run can show (`list --status` takes these): its own, and Temporal's for a run
 * that ended without saying. Not `continued`: that is an execution's that handed over to its
 * continuation, and a chain is listed by its latest.
 */
export const SHOWN_STATUSES: readonly string[] = [
  ...new Set([...Object.values(RunStatus), ...CLOSED_STATUSES.map(({ status }) => status)]),
].filter((status) => status !== RunStatus.continued);

/**
 * The status to show for a run: its `AgentStatus`, unless the run has closed without saying how
 * (it was terminated, timed out, or its attribute lags), in which case Temporal's own status.
 */
export function reportedStatus(attribute: string | undefined, execution: WorkflowExecutionStatusName): string {
  if (execution === 'RUNNING') return attribute ?? RunStatus.starting;
  if (attribute && !LIVE_STATUSES.includes(attribute)) return attribute;
  return CLOSED_STATUSES.find((closed) => closed.execution === execution)?.status ?? execution.toLowerCase();
}

export const isRunStatus = (status: string): status is RunStatus =>
  (Object.values(RunStatus) as string[]).includes(status);

/** `value` as a quoted string of a visibility query. */
export const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;

/**
 * The visibility condition of the runs `reportedStatus` shows as `status`: those whose `AgentStatus`
 * says it (a live one only while open: a terminated run keeps the status it had), and those that
 * closed without saying how (their `AgentStatus` unset or still live), by how their execution ended.
 */
function statusCondition(status: string): string {
  const attribute = searchAttributes.agentStatus.name;
  // An open run that has not set its status yet (started by the plain CLI, or its first task not run) shows `starting`.
  const said =
    status === RunStatus.starting
      ? `(${attribute} = ${quote(status)} OR ${attribute} IS NULL)`
      : `${attribute} = ${quote(status)}`;
  const own = LIVE_STATUSES.includes(status) ? `${said} AND ExecutionStatus = "Running"` : said;
  const closed = CLOSED_STATUSES.find((ending) => ending.status === status);
  if (!closed) return own;
  const unsaid = `${attribute} IS NULL OR ${attribute} IN (${LIVE_STATUSES.map(quote).join(', ')})`;
  return `(${own} OR (ExecutionStatus = ${quote(closed.queried)} AND (${unsaid})))`;
}

/** A Temporal visibility query for agent runs matching `filter`. */
export function listQuery(filter: ListFilter): string {
  return [
    `WorkflowType = ${quote(WorkflowType.agentRun)}`,
    // A chain that continued as new is one run to its callers: its latest execution stands for it.
    'ExecutionStatus != "ContinuedAsNew"',
    // A sub-agent's run belongs to its root's tree (`status <root>` shows it).
    ...(filter.all ? [] : ['ParentWorkflowId IS NULL']),
    ...(filter.status ? [statusCondition(filter.status)] : []),
    ...(filter.agent ? [`${searchAttributes.agentName.name} = ${quote(filter.agent)}`] : []),
    ...(filter.user ? [`${searchAttributes.agentUser.name} = ${quote(filter.user)}`] : []),
  ].join(' AND ');
}

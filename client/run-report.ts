/**
 * A run's report (what `status` shows) without waiting for anything: its own state while it is open
 * and a worker answers, what Temporal holds otherwise; its calls in flight and per-step usage; and,
 * for a closed run, how it ended.
 */
import { WorkflowFailedError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { searchAttributes } from '../src/contract';
import { historyPayloadDecoder } from '../src/history-payloads';
import type { AgentRunResult, RunStatus } from '../src/types';
import { summariesFromHistory } from './activity-summaries';
import type { ApprovalRecord } from './approval-records';
import { callsInFlight, pacingOf } from './calls-in-flight';
import { chainTranscript } from './chain-transcript';
import type { StepUsage } from './history-transcript';
import { runFailure } from './run-failure';
import { answerOf } from './run-state-query';
import { reportedStatus } from './run-status';
import type { RunFailure, RunReport } from './run-types';
import { withWorkers } from './task-queue-pollers';
import { runHandle, type Call } from './temporal-calls';

/**
 * A run's status without waiting for anything: its own state while it is open and a worker can
 * answer; what Temporal holds (search attributes, and how a closed run ended) otherwise.
 */
export async function runReport(client: Client, call: Call, workflowId: string): Promise<RunReport> {
  const description = await call(() => runHandle(client, workflowId).describe(), workflowId);
  const attributes = description.typedSearchAttributes;
  const closed = description.status.name !== 'RUNNING';
  const base: RunReport = {
    workflowId,
    status: reportedStatus(attributes.get(searchAttributes.agentStatus), description.status.name),
    closed,
    taskQueue: description.taskQueue,
    agent: attributes.get(searchAttributes.agentName),
    userId: attributes.get(searchAttributes.agentUser),
    step: attributes.get(searchAttributes.agentSteps),
    tokens: attributes.get(searchAttributes.agentTokens),
    costUsd: attributes.get(searchAttributes.agentCostUsd),
    startTime: description.startTime,
    ...(description.closeTime && { closeTime: description.closeTime }),
    ...(await progress(client, call, workflowId, description)),
  };
  const { workers, state } = await answerOf(client, call, workflowId, description.taskQueue, closed);
  if (closed) {
    // How it ended is in history; its transcript and usage in and out, where a worker can replay it.
    const ending = { ...base, ...(await closedRunEnding(client, call, workflowId)) };
    if (!state) return ending;
    // A terminated run ran no code to say so: its own last status and pending calls are stale.
    const truthful = { ...state, status: ending.status as RunStatus, pendingApprovals: [] };
    return { ...ending, usage: state.usage, state: truthful };
  }
  if (!state) {
    return { ...base, noWorker: workers ?? { taskQueue: description.taskQueue, workflow: false, activity: false } };
  }
  return {
    ...base,
    status: state.status,
    agent: state.agent,
    userId: state.userId,
    step: state.step,
    tokens: state.usage.totalTokens,
    costUsd: state.usage.costUsd,
    usage: state.usage,
    state,
  };
}

/**
 * A run's calls in flight (from `describe()`, named by their summaries in history) and its per-step
 * usage (from history, a chain's earlier runs included, as `transcript` reads it). History that
 * cannot be read or decoded (an encrypted run without its keys) only leaves out what it would tell.
 */
async function progress(
  client: Client,
  call: Call,
  workflowId: string,
  description: WorkflowExecutionDescription,
): Promise<Pick<RunReport, 'callsInFlight' | 'stepUsage' | 'approvals'>> {
  const history = await client.workflow
    .getHandle(workflowId, description.runId)
    .fetchHistory()
    .catch(() => undefined);
  const events = history?.events ?? [];
  const decode = historyPayloadDecoder(client.options.loadedDataConverter);
  const calls = await withWorkers(
    client,
    call,
    callsInFlight(description.raw, await summariesFromHistory(events, decode), await pacingOf(description.raw, decode)),
  );
  const { steps, approvals } = await chainTranscript(client, call, workflowId, events, decode).catch(() => ({
    steps: [] as StepUsage[],
    approvals: [] as ApprovalRecord[],
  }));
  return {
    ...(calls.length && { callsInFlight: calls }),
    ...(steps.length && { stepUsage: steps }),
    ...(approvals.length && { approvals }),
  };
}

/** How a closed run ended, from its close event in history: no worker needed. */
export async function closedRunEnding(client: Client, call: Call, workflowId: string): Promise<Partial<RunReport>> {
  return call(async () => {
    try {
      const result = await runHandle(client, workflowId).result();
      const { steps, usage } = result;
      return { status: result.status, result, step: steps, usage, tokens: usage.totalTokens, costUsd: usage.costUsd };
    } catch (error) {
      if (error instanceof WorkflowFailedError) return { failure: runFailure(error, workflowId).failure };
      throw error;
    }
  }, workflowId);
}

/** How a run ended, as the run stream tells it: its status, and its result or its failure. */
export async function streamEnding(
  client: Client,
  call: Call,
  workflowId: string,
): Promise<{ status: string; result?: AgentRunResult; failure?: RunFailure }> {
  const description = await call(() => runHandle(client, workflowId).describe(), workflowId);
  const status = reportedStatus(
    description.typedSearchAttributes.get(searchAttributes.agentStatus),
    description.status.name,
  );
  const { result, failure } = await closedRunEnding(client, call, workflowId);
  return { status, ...(result && { result }), ...(failure && { failure }) };
}

/**
 * A run's transcript and per-step usage rebuilt from history, across its chain: the latest run holds
 * the whole transcript (carried over), and the steps are every run's, the runs it continued read back
 * in turn. No worker needed, and an encrypted run decodes with the client's keys.
 */
import type { Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { searchAttributes } from '../src/contract';
import { historyPayloadDecoder } from '../src/history-payloads';
import { withToolCalls } from './approval-records';
import {
  recordsFromHistory,
  totalUsage,
  type RunRecords,
  type RunTranscript,
  type transcriptFromHistory,
} from './history-transcript';
import { reportedStatus } from './run-status';
import { runHandle, type Call } from './temporal-calls';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Decode = ReturnType<typeof historyPayloadDecoder>;

/** The transcript of the run `workflowId` (the latest run of its chain), with its agent and status. */
export async function runTranscript(client: Client, call: Call, workflowId: string): Promise<RunTranscript> {
  const handle = runHandle(client, workflowId);
  const [description, history] = await call(() => Promise.all([handle.describe(), handle.fetchHistory()]), workflowId);
  const decode = historyPayloadDecoder(client.options.loadedDataConverter);
  const attributes = description.typedSearchAttributes;
  return {
    workflowId,
    runId: description.runId,
    agent: attributes.get(searchAttributes.agentName),
    status: reportedStatus(attributes.get(searchAttributes.agentStatus), description.status.name),
    ...(await chainTranscript(client, call, workflowId, history.events ?? [], decode)),
  };
}

/**
 * The transcript of a run's chain from the latest run's history `events`: that run holds the whole
 * transcript (carried over), and the steps are every run's, the runs it continued read back in turn.
 */
export async function chainTranscript(
  client: Client,
  call: Call,
  workflowId: string,
  events: HistoryEvent[],
  decode: Decode,
): Promise<Awaited<ReturnType<typeof transcriptFromHistory>>> {
  const { callsByStep, ...latest } = await call(() => recordsFromHistory(events, decode), workflowId);
  const earlier = await earlierRecords(client, call, workflowId, events[0], decode);
  const steps = [...earlier.flatMap((run) => run.steps), ...latest.steps];
  // A decision may name a call of a step an earlier run of the chain made.
  const calls = new Map([...earlier.flatMap((run) => [...run.callsByStep]), ...callsByStep]);
  const approvals = withToolCalls([...earlier.flatMap((run) => run.approvals), ...latest.approvals], calls);
  return { ...latest, steps, usage: totalUsage(steps), approvals };
}

/** The records of the runs a run continued (its start event names the one before), oldest first. */
async function earlierRecords(
  client: Client,
  call: Call,
  workflowId: string,
  started: HistoryEvent | undefined,
  decode: Decode,
): Promise<RunRecords[]> {
  const runs: RunRecords[] = [];
  let previous = started?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  while (previous) {
    const runId = previous;
    const { events } = await call(() => client.workflow.getHandle(workflowId, runId).fetchHistory(), workflowId);
    runs.unshift(await recordsFromHistory(events ?? [], decode));
    previous = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  }
  return runs;
}

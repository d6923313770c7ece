/**
 * The `agent_approvals_waiting` gauge: runs of each agent that wait for a person, fleet-wide, read
 * from Temporal's visibility store (the `AgentStatus` search attribute) every few seconds by each
 * worker that runs workflows. A wait that spans workers, crashes and continue-as-new is counted once;
 * every such worker reports the same figure, so aggregate it with `max`, not `sum`.
 */
import { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { searchAttributes } from '../src/contract';
import { RunStatus } from '../src/types';

const REFRESH_MS = 5_000;

/** Starts refreshing the gauge for `agents`; the returned function stops it. */
export function reportApprovalsWaiting(
  connection: NativeConnection,
  namespace: string,
  meter: MetricMeter,
  agents: readonly string[],
): () => void {
  const client = new Client({ connection, namespace });
  const gauge = meter.createGauge(
    'agent_approvals_waiting',
    'int',
    'runs',
    'Runs waiting for a person to approve a call',
  );
  let stopped = false;
  const refresh = async () => {
    for (const agent of agents) {
      const query =
        `ExecutionStatus = "Running" AND ${searchAttributes.agentName.name} = "${agent}" ` +
        `AND ${searchAttributes.agentStatus.name} = "${RunStatus.awaitingApproval}"`;
      // A failed count (the server is away) keeps the last figure: the next refresh corrects it.
      const counted = await client.workflow.count(query).catch(() => undefined);
      if (counted && !stopped) gauge.set(counted.count, { agent });
    }
  };
  const timer = setInterval(() => void refresh(), REFRESH_MS);
  void refresh();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

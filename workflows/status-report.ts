/**
 * What a run tells the world about itself without a query: the `AgentStatus`, `AgentName`,
 * `AgentUser` and usage search attributes (for `list` and the Web UI's filters) and the Web UI's
 * current details. Search attributes are written only when they change: each write is an event.
 */
import { setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../src/contract';
import { RunStatus, type Usage } from '../src/types';
import type { Approvals } from './approvals';

export class StatusReport {
  private phase: RunStatus = RunStatus.starting;
  private reported: RunStatus | undefined;

  constructor(
    private readonly approvals: Approvals,
    private readonly progress: () => { step: number; usage: Usage },
  ) {}

  /** `awaiting_approval` while any call waits for a person, else the loop's phase. */
  get status(): RunStatus {
    return this.approvals.pending().length ? RunStatus.awaitingApproval : this.phase;
  }

  /** Who the run is for; written once, at its start. */
  identify(agent: string, userId: string | undefined): void {
    upsertSearchAttributes([
      { key: searchAttributes.agentName, value: agent },
      ...(userId ? [{ key: searchAttributes.agentUser, value: userId }] : []),
    ]);
  }

  setPhase(next: RunStatus): void {
    this.phase = next;
    this.report();
  }

  /** Keeps the status attribute and the Web UI's details current; call after any change of status. */
  report(): void {
    const current = this.status;
    const { step, usage } = this.progress();
    setCurrentDetails(
      [
        `${current} · step ${step} · ${usage.totalTokens} tokens`,
        ...this.approvals.pending().map((entry) => `awaiting approval: ${entry.tool} (callId ${entry.callId})`),
      ].join('\n'),
    );
    if (current !== this.reported) {
      this.reported = current;
      upsertSearchAttributes([{ key: searchAttributes.agentStatus, value: current }]);
    }
  }

  /** The usage attributes, after each model call. */
  reportUsage(step: number, usage: Usage): void {
    upsertSearchAttributes([
      { key: searchAttributes.agentSteps, value: step },
      { key: searchAttributes.agentTokens, value: usage.totalTokens },
      { key: searchAttributes.agentCostUsd, value: usage.costUsd },
    ]);
  }
}

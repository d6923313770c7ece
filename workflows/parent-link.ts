/**
 * A sub-agent's run as its parent run hears of it: after each change of its tree's usage or of the
 * calls waiting for approval in it, a `subAgentReport` signal to the parent, which adds the usage to
 * its own (budgets, status and search attributes of the root are the tree's while it works) and lists
 * the calls as its own. Reports go one at a time, in order; one the parent cannot take (it ended) is
 * dropped: the parent reads the run's result anyway.
 */
import { getExternalWorkflowHandle, log, workflowInfo } from '@temporalio/workflow';
import { subAgentReportSignal } from '../src/contract';
import type { PendingApproval, Usage } from '../src/types';

/** Calls waiting for approval a report lists at most: each carries its arguments (up to 64 KiB). */
const MAX_REPORTED_APPROVALS = 16;

export class ParentLink {
  /** What the last report said, to send none that says the same. */
  private lastSent = '';
  private sending: Promise<void> = Promise.resolve();

  constructor(private readonly parentWorkflowId: string) {}

  /** Tells the parent the tree's `usage` and the calls waiting in it, if either changed since last told. */
  report(usage: Usage, pending: PendingApproval[]): void {
    const listed = pending.slice(0, MAX_REPORTED_APPROVALS);
    const said = JSON.stringify([usage.totalTokens, usage.costUsd, listed.map((call) => call.callId)]);
    if (said === this.lastSent) return;
    this.lastSent = said;
    const report = { workflowId: workflowInfo().workflowId, usage, pendingApprovals: listed };
    this.sending = this.sending
      .then(() => getExternalWorkflowHandle(this.parentWorkflowId).signal(subAgentReportSignal, report))
      .catch((error: unknown) => log.info('the parent run did not take a report', { error: String(error) }));
  }
}

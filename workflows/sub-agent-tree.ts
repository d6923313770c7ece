/**
 * A run's sub-agents as the run sees them while they work: the child run of each sub-agent call in
 * flight, what their reports say (`subAgentReport`: their usage goes into the run's progress, so its
 * budget, status and search attributes are the tree's; their calls waiting for approval are listed as
 * this run's, by the path of call ids), and the decisions on those calls, forwarded down to the run
 * that waits (`forwardedApproval`).
 */
import { ApplicationFailure, getExternalWorkflowHandle, log, setHandler, workflowInfo } from '@temporalio/workflow';
import { CALL_PATH_SEPARATOR, forwardedApprovalSignal, subAgentReportSignal } from '../src/contract';
import { subAgentReportSchema } from '../src/input';
import type { ApprovalDecision, PendingApproval, SubAgentRunRef, Usage } from '../src/types';
import { ErrorType } from '../src/errors';
import { describeFailure, updateRejected, withoutStack } from '../src/failures';
import { describeIssues } from '../src/validation';
import { decideOnSubAgent } from './activities';
import { takeForwardedDecision, type Approvals } from './approvals';
import type { RunProgress } from './run-progress';

/** A sub-agent call in flight: its agent, its run's workflow id, the calls waiting for approval in it. */
interface ChildRun {
  agent: string;
  workflowId: string;
  pending: PendingApproval[];
}

export class SubAgentTree {
  /** By the call id of the parent's call. */
  private readonly children = new Map<string, ChildRun>();
  /** Calls below decided through this run: no longer listed, whatever a later report of the child says. */
  private readonly decided = new Set<string>();
  /** Every sub-agent run started (in flight or ended), in call order, as the `state` query lists them. */
  readonly started: SubAgentRunRef[] = [];

  constructor(
    private readonly progress: RunProgress,
    /** Runs after anything a client reads changed: usage, the calls waiting. */
    private readonly onChange: () => void,
    /** Whether a decision is made on the sub-agent's run by its update (the run's spec has the change). */
    private readonly confirmsDecisions: () => boolean,
  ) {}

  /** The sub-agent run of `run.callId` is about to start (listed first, so its first report is taken). */
  starting(run: SubAgentRunRef): void {
    this.children.set(run.callId, { agent: run.agent, workflowId: run.workflowId, pending: [] });
    this.started.push(run);
  }

  /** The sub-agent run of call `callId` ended, having spent `usage` (undefined: as it last reported). */
  ended(callId: string, usage: Usage | undefined): void {
    this.children.delete(callId);
    this.progress.childSettled(callId, usage);
    this.onChange();
  }

  /** The `subAgentReport` signal's handler: a signal cannot be refused, so a bad one is logged and ignored. */
  receive(payload: unknown): void {
    const parsed = subAgentReportSchema.safeParse(payload);
    if (!parsed.success) {
      log.warn('ignored a malformed sub-agent report', { problems: describeIssues(parsed.error) });
      return;
    }
    const report = parsed.data;
    const prefix = `${workflowInfo().workflowId}${CALL_PATH_SEPARATOR}`;
    const callId = report.workflowId.startsWith(prefix) ? report.workflowId.slice(prefix.length) : '';
    const child = this.children.get(callId);
    if (!child || child.workflowId !== report.workflowId) {
      log.warn('ignored a report from a run that is no sub-agent call in flight of this run', {
        from: report.workflowId.slice(0, 200),
      });
      return;
    }
    this.progress.childSpent(callId, report.usage);
    child.pending = report.pendingApprovals.map((call) => ({
      callId: `${callId}${CALL_PATH_SEPARATOR}${call.callId}`,
      tool: call.tool,
      args: call.args,
      agentPath: [child.agent, ...(call.agentPath ?? [])],
    }));
    this.onChange();
  }

  /** The calls waiting for approval in the sub-agents' runs, by path. */
  pending(): PendingApproval[] {
    return [...this.children.values()].flatMap((child) =>
      child.pending.filter((call) => !this.decided.has(call.callId)),
    );
  }

  /** The `approval` update's check of a decision on a call below (its id a path): throws what is wrong. */
  validate(decision: ApprovalDecision): void {
    if (this.decided.has(decision.callId)) throw updateRejected(`tool call ${decision.callId} was already decided`);
    if (!this.pending().some((call) => call.callId === decision.callId)) {
      const open = this.pending().map((call) => call.callId);
      throw updateRejected(
        `no tool call ${decision.callId} awaits approval; pending below: ${open.join(', ') || '(none)'}`,
      );
    }
    if (decision.args !== undefined) {
      const [callId] = decision.callId.split(CALL_PATH_SEPARATOR);
      throw updateRejected(
        `edited arguments are checked by the run whose tool waits: decide ${decision.callId} with edits on ` +
          `that run (${this.children.get(callId)!.workflowId}), or without edits here`,
      );
    }
  }

  /**
   * Makes a decision `validate` accepted on the sub-agent's run under which the call waits, by its
   * `approval` update: this run's update fails with that run's refusal (the call decided there
   * meanwhile), and the call is listed again until that run reports. Runs started before that send
   * the decision down by signal, which a sub-agent's run that cannot take it ignores.
   */
  async forward(decision: ApprovalDecision): Promise<string> {
    const [callId, ...below] = decision.callId.split(CALL_PATH_SEPARATOR);
    const child = this.children.get(callId)!;
    const call = child.pending.find((pending) => pending.callId === decision.callId)!;
    const sent = { ...decision, callId: below.join(CALL_PATH_SEPARATOR) };
    this.decided.add(decision.callId);
    this.onChange();
    if (!this.confirmsDecisions()) {
      await getExternalWorkflowHandle(child.workflowId).signal(forwardedApprovalSignal, sent);
    } else {
      try {
        await decideOnSubAgent({ workflowId: child.workflowId, decision: sent }, decision.callId);
      } catch (error) {
        this.decided.delete(decision.callId);
        this.onChange();
        const { type, message } = describeFailure(error);
        throw withoutStack(
          ApplicationFailure.create({
            type: type ?? ErrorType.UpdateRejected,
            message: `the decision on ${decision.callId} was not taken below (${call.agentPath?.join(' › ')}): ${message}`,
            nonRetryable: true,
          }),
        );
      }
    }
    const where = `in ${call.agentPath?.join(' › ')}`;
    return decision.approve
      ? `approved ${call.tool} (${decision.callId}) ${where}`
      : `denied ${call.tool} (${decision.callId}) ${where}`;
  }
}

/** The signals of a tree of runs: reports from this run's sub-agents, decisions forwarded from its parent. */
export function handleTreeSignals(tree: SubAgentTree, approvals: Approvals): void {
  setHandler(subAgentReportSignal, (report) => tree.receive(report));
  setHandler(forwardedApprovalSignal, (decision) => takeForwardedDecision(approvals, decision));
}

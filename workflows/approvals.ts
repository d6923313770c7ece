/**
 * Tool calls held for a person's decision: the calls waiting, the `approval` update's validator and
 * handler (which checks edited arguments against the tool's schema before the decision counts), and
 * the wait itself, which denies a call nobody decided in time.
 */
import { ApplicationFailure, condition, log } from '@temporalio/workflow';
import { ErrorType } from '../src/errors';
import { updateRejected, withoutStack } from '../src/failures';
import { approvalDecisionSchema } from '../src/input';
import type { ApprovalDecision, PendingApproval } from '../src/types';
import { describeIssues } from '../src/validation';

/** `checking`: edited arguments of a decision on the call are being checked; no other decision is taken meanwhile. */
type Entry = PendingApproval & { decision?: ApprovalDecision; checking?: boolean };

/** Checks edited arguments of a call to `tool` against its schema: an error for the approver, or none. */
export type EditedArgumentsCheck = (tool: string, args: Record<string, unknown>) => Promise<string | undefined>;

/** The calls waiting in a run's sub-agents, listed and decided through the run (sub-agent-tree.ts). */
export interface ForwardedApprovals {
  pending(): PendingApproval[];
  validate(decision: ApprovalDecision): void;
  forward(decision: ApprovalDecision): Promise<string>;
}

/** Orders call ids (`step.index`, or paths of them into sub-agents: `1.1/2.1`) numerically: 2.10 after 2.9. */
function compareCallIds(a: string, b: string): number {
  const numbers = (id: string) => id.split(/[./]/).map(Number);
  const [left, right] = [numbers(a), numbers(b)];
  for (let index = 0; index < Math.min(left.length, right.length); index++) {
    if (left[index] !== right[index]) return left[index] - right[index];
  }
  return left.length - right.length;
}

/** Whether a call id is a path into a sub-agent's run (`1.1/2.1`) rather than one of this run's calls. */
const isPathIntoSubAgent = (callId: string) => callId.includes('/');

export class Approvals {
  private readonly entries = new Map<string, Entry>();

  /** `onChange` runs whenever a call starts or stops waiting; `checkEdited` checks an approval's edited arguments. */
  constructor(
    private readonly onChange: () => void,
    private readonly checkEdited: EditedArgumentsCheck,
    /** The calls waiting in the run's sub-agents. */
    private readonly forwarded?: ForwardedApprovals,
  ) {}

  /**
   * Calls still waiting, in the order the model made them (whichever argument check finished first);
   * then, in a run with sub-agents, those waiting below it by path.
   */
  pending(): PendingApproval[] {
    const own = [...this.entries.values()]
      .filter((entry) => !entry.decision)
      .map(({ callId, tool, args }) => ({ callId, tool, args }));
    return [...own, ...(this.forwarded?.pending() ?? [])].sort((a, b) => compareCallIds(a.callId, b.callId));
  }

  /**
   * Waits for a person's decision on the call; denies it if none comes within `timeoutMs`, saying
   * `expired` in the decision's note. Returns undefined, the call still waiting, when `interrupt`
   * turns true first (the run continues as new and waits on there).
   */
  async request(
    callId: string,
    tool: string,
    args: unknown,
    { timeoutMs, expired, interrupt }: { timeoutMs: number; expired: string; interrupt?: () => boolean },
  ): Promise<ApprovalDecision | undefined> {
    const earlier = this.entries.get(callId);
    if (earlier?.decision) return earlier.decision;
    const entry: Entry = earlier ?? { callId, tool, args };
    this.entries.set(callId, entry);
    this.onChange();
    try {
      const decided = await condition(() => entry.decision !== undefined || Boolean(interrupt?.()), timeoutMs, {
        summary: `approval deadline · ${tool} (call ${callId})`,
      });
      if (decided && !entry.decision) return undefined;
      if (!decided) {
        entry.decision = { callId, approve: false, note: expired };
        this.onChange();
      }
      return entry.decision!;
    } catch (error) {
      // A cancelled run no longer waits: the call must not stay listed as pending.
      entry.decision = { callId, approve: false, note: 'the run was cancelled before a decision' };
      this.onChange();
      throw error;
    }
  }

  /**
   * Calls a run continued with still waiting (or decided meanwhile): listed before any handler runs,
   * so an `approval` update that reaches the continuation first finds them.
   */
  carryOver(calls: (PendingApproval & { decision?: ApprovalDecision })[]): void {
    for (const call of calls) this.entries.set(call.callId, call);
  }

  /** The decision on a call, if one was made (a call a continuation carries may have been decided meanwhile). */
  decisionOn(callId: string): ApprovalDecision | undefined {
    return this.entries.get(callId)?.decision;
  }

  /** The `approval` update's validator: a well-formed decision on a call that waits for one. */
  validate(payload: unknown): void {
    const parsed = approvalDecisionSchema.safeParse(payload);
    if (!parsed.success) throw updateRejected(describeIssues(parsed.error));
    const decision = parsed.data;
    if (this.forwarded && isPathIntoSubAgent(decision.callId)) return this.forwarded.validate(decision);
    const entry = this.entries.get(decision.callId);
    if (!entry) {
      const open = this.pending().map((pending) => pending.callId);
      throw updateRejected(`no tool call ${decision.callId} awaits approval; pending: ${open.join(', ') || '(none)'}`);
    }
    if (entry.decision) {
      throw updateRejected(
        `tool call ${decision.callId} was already ${entry.decision.approve ? 'approved' : 'denied'}`,
      );
    }
    if (entry.checking) {
      throw updateRejected(`tool call ${decision.callId} has a decision whose edited arguments are being checked`);
    }
  }

  /**
   * The `approval` update's handler; runs only after `validate` accepted the decision. Edited
   * arguments are checked first: arguments the tool's schema rejects fail the update, and the call
   * waits on for a decision.
   */
  async decide(decision: ApprovalDecision): Promise<string> {
    if (this.forwarded && isPathIntoSubAgent(decision.callId)) return this.forwarded.forward(decision);
    const entry = this.entries.get(decision.callId)!;
    if (decision.args !== undefined) {
      entry.checking = true;
      let problem: string | undefined;
      try {
        problem = await this.checkEdited(entry.tool, decision.args);
      } finally {
        entry.checking = false;
      }
      if (problem !== undefined) throw refused(problem);
      // The wait may have ended (the call denied for want of a decision) while the arguments were checked.
      if (entry.decision) throw refused(`tool call ${decision.callId} was denied meanwhile: ${entry.decision.note}`);
    }
    // Only what the schema knows, as it was sent (the validator checked it): the record of who decided what.
    const { callId, approve, note, args, decidedBy, via } = decision;
    entry.decision = {
      callId,
      approve,
      note,
      ...(args !== undefined && { args }),
      ...(decidedBy !== undefined && { decidedBy }),
      ...(via !== undefined && { via }),
    };
    this.onChange();
    const edited = args !== undefined ? ' with edited arguments' : '';
    return approve ? `approved ${entry.tool} (${entry.callId})${edited}` : `denied ${entry.tool} (${entry.callId})`;
  }
}

/**
 * The `forwardedApproval` signal's handler: a decision made on an ancestor run, taken as the `approval`
 * update would take it. A signal cannot be refused, so one the update would reject is logged and ignored.
 */
export async function takeForwardedDecision(approvals: Approvals, payload: unknown): Promise<void> {
  try {
    approvals.validate(payload);
    await approvals.decide(payload as ApprovalDecision);
  } catch (error) {
    log.warn('ignored a forwarded approval', { problem: error instanceof Error ? error.message : String(error) });
  }
}

/** An approval the handler refuses: the update fails with `problem`, and the call waits on. */
function refused(problem: string): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({ type: ErrorType.ApprovalArgumentsInvalid, message: problem, nonRetryable: true }),
  );
}

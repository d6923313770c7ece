/**
 * Tool calls held for a person's decision: the calls waiting, the `approval` update's validator and
 * handler, and the wait itself, which denies a call nobody decided in time.
 */
import { condition } from '@temporalio/workflow';
import { approvalDecisionSchema } from '../src/input';
import type { ApprovalDecision, PendingApproval } from '../src/types';
import { describeIssues } from '../src/validation';

type Entry = PendingApproval & { decision?: ApprovalDecision };

/** Orders call ids (`step.index`) numerically: 2.10 after 2.9. */
function compareCallIds(a: string, b: string): number {
  const [stepA, indexA] = a.split('.').map(Number);
  const [stepB, indexB] = b.split('.').map(Number);
  return stepA - stepB || indexA - indexB;
}

export class Approvals {
  private readonly entries = new Map<string, Entry>();

  /** `onChange` runs whenever a call starts or stops waiting. */
  constructor(private readonly onChange: () => void) {}

  /** Calls still waiting, in the order the model made them (whichever argument check finished first). */
  pending(): PendingApproval[] {
    return [...this.entries.values()]
      .filter((entry) => !entry.decision)
      .sort((a, b) => compareCallIds(a.callId, b.callId))
      .map(({ callId, tool, args }) => ({ callId, tool, args }));
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
    if (!parsed.success) throw new Error(describeIssues(parsed.error));
    const decision = parsed.data;
    const entry = this.entries.get(decision.callId);
    if (!entry) {
      const open = this.pending().map((pending) => pending.callId);
      throw new Error(`no tool call ${decision.callId} awaits approval; pending: ${open.join(', ') || '(none)'}`);
    }
    if (entry.decision) {
      throw new Error(`tool call ${decision.callId} was already ${entry.decision.approve ? 'approved' : 'denied'}`);
    }
  }

  /** The `approval` update's handler; runs only after `validate` accepted the decision. */
  decide(decision: ApprovalDecision): string {
    const entry = this.entries.get(decision.callId)!;
    entry.decision = { callId: decision.callId, approve: decision.approve, note: decision.note };
    this.onChange();
    return decision.approve ? `approved ${entry.tool} (${entry.callId})` : `denied ${entry.tool} (${entry.callId})`;
  }
}

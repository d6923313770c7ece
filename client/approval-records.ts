/**
 * The audit trail of a run's approvals, read from its history: each `approval` update the run took
 * (its accepted event holds the decision as sent, its completed event when it took effect) and each
 * call denied because nobody decided in time (its approval deadline's timer fired).
 */
import type { temporal } from '@temporalio/proto';
import { approvalUpdate } from '../src/contract';
import type { ApprovalDecision, ToolCall } from '../src/types';
import { timeMs } from '../src/recorded-calls';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** Where a decision came from. */
export const DecisionSource = {
  /** The durable-agents CLI (`approve`, `deny`). */
  cli: 'cli',
  /** `AgentClient.decide`, from code. */
  client: 'client',
  /** The plain Temporal CLI (`temporal workflow update execute`). */
  temporalCli: 'temporal-cli',
  /** Nobody decided before the approval deadline: the run denied the call. */
  timeout: 'timeout',
  /** A caller that said nothing about itself. */
  unknown: 'unknown',
} as const;
export type DecisionSource = (typeof DecisionSource)[keyof typeof DecisionSource];

/** One decision on a tool call that awaited approval. */
export interface ApprovalRecord {
  /** The call, `step.index`. */
  callId: string;
  tool?: string;
  /** The model's id of the call (a transcript's `tool_call_id`), when the history shows its step. */
  toolCallId?: string;
  approved: boolean;
  note?: string;
  /** Arguments the approver edited: the tool ran with these instead of the model's. */
  args?: Record<string, unknown>;
  /** Who decided, as the approver said (the CLI says the user it ran as, or `--by`). */
  decidedBy?: string;
  via: DecisionSource;
  /** The Temporal identity of the client that sent the decision (`pid@host`; `temporal-cli:user@host`). */
  identity?: string;
  /** When it took effect, ISO 8601. */
  at: string;
}

/** What the update's handler answers: `approved refund (1.2)`, `denied refund (1.2)`. */
const OUTCOME = /^(?:approved|denied) (\S+) \(/;
/** The summary of an approval's deadline timer (workflows/approvals.ts). */
const DEADLINE = /^approval deadline · (\S+) \(call ([\d.]+)\)$/;

function sourceOf(decision: Partial<ApprovalDecision>, identity: string | undefined): DecisionSource {
  if (decision.via === DecisionSource.cli || decision.via === DecisionSource.client) return decision.via;
  return identity?.startsWith('temporal-cli') ? DecisionSource.temporalCli : DecisionSource.unknown;
}

/** Reads the decisions of one run, event by event in history order. */
export class ApprovalReader {
  readonly records: ApprovalRecord[] = [];
  private readonly accepted = new Map<string, { decision: Partial<ApprovalDecision>; identity?: string }>();
  private readonly deadlines = new Map<string, { callId: string; tool: string }>();

  constructor(private readonly decode: (payload: Payload) => Promise<unknown>) {}

  async read(event: HistoryEvent): Promise<void> {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (accepted?.input?.name === approvalUpdate.name) {
      const payload = accepted.input.args?.payloads?.[0];
      const decision = payload ? ((await this.decode(payload)) as Partial<ApprovalDecision>) : {};
      this.accepted.set(String(event.eventId), { decision, identity: accepted.meta?.identity ?? undefined });
    }
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    const taken = completed && this.accepted.get(String(completed.acceptedEventId));
    // A decision the handler refused (edited arguments the tool's schema rejects) never took effect.
    const success = completed?.outcome?.success?.payloads?.[0];
    if (taken && success) this.decided(taken, String(await this.decode(success)), timeMs(event.eventTime));
    await this.readDeadline(event);
  }

  private decided(
    { decision, identity }: { decision: Partial<ApprovalDecision>; identity?: string },
    outcome: string,
    atMs: number,
  ): void {
    this.records.push({
      callId: String(decision.callId),
      ...(OUTCOME.exec(outcome) && { tool: OUTCOME.exec(outcome)![1] }),
      approved: decision.approve === true,
      ...(decision.note && { note: decision.note }),
      ...(decision.args && { args: decision.args }),
      ...(decision.decidedBy && { decidedBy: decision.decidedBy }),
      via: sourceOf(decision, identity),
      ...(identity && { identity }),
      at: new Date(atMs).toISOString(),
    });
  }

  /** A call's approval deadline: its timer started, or fired with no decision made (the call was denied). */
  private async readDeadline(event: HistoryEvent): Promise<void> {
    if (event.timerStartedEventAttributes && event.userMetadata?.summary) {
      const summary = await this.decode(event.userMetadata.summary).catch(() => undefined);
      const deadline = typeof summary === 'string' ? DEADLINE.exec(summary) : null;
      if (deadline) this.deadlines.set(String(event.eventId), { tool: deadline[1], callId: deadline[2] });
    }
    const fired = event.timerFiredEventAttributes;
    const deadline = fired && this.deadlines.get(String(fired.startedEventId));
    if (!deadline || this.records.some((record) => record.callId === deadline.callId)) return;
    this.records.push({
      ...deadline,
      approved: false,
      note: 'no decision before the approval deadline: denied by the run',
      via: DecisionSource.timeout,
      at: new Date(timeMs(event.eventTime)).toISOString(),
    });
  }
}

/**
 * `records` with the model's id of each call (and its tool), from the tool calls of each step's
 * answer (`callsByStep`): call `step.index` is the index-th call of that step's answer.
 */
export function withToolCalls(records: ApprovalRecord[], callsByStep: Map<number, ToolCall[]>): ApprovalRecord[] {
  return records.map((record) => {
    const [step, index] = record.callId.split('.').map(Number);
    const call = callsByStep.get(step)?.[index - 1];
    return call ? { ...record, tool: call.function.name, toolCallId: call.id } : record;
  });
}

/**
 * One tool call the model asked for, from its arguments to the tool message the model reads back:
 * checked, held for approval when the tool needs it, then run as an activity.
 */
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import { describeFailure } from '../src/failures';
import type { AgentSpec, ApprovalDecision, ChatMessage, PendingApproval, ToolCall } from '../src/types';
import { checkToolArguments, runTool } from './activities';
import { hasPatch, Patch } from './patch-checks';
import type { Approvals } from './approvals';
import { isMemoryTool, runMemoryCall } from './memory-tools';
import {
  deniedMessage,
  overCapNotRun,
  parseArguments,
  toolErrorMessage,
  toolFailedMessage,
  toolMessage,
  unknownToolError,
} from './tool-messages';

export interface ToolCallContext {
  spec: AgentSpec;
  approvals: Approvals;
  approvalTimeoutMs: number;
  /** Workflow time by which calls and approval waits end: the run's time budget. */
  deadlineMs?: number;
  /** Set for a memory-enabled agent's run with a user: its `remember`/`forget` calls go to this user's memory. */
  memoryUserId?: string;
  /**
   * Whether the run should stop waiting for approvals and continue as new (its history grew long):
   * the calls still waiting are then carried to the continuation, which waits on.
   */
  interruptsApprovalWait?: () => boolean;
}

/** A call waiting for approval, carried to a continuation: when its wait ends, and the decision if one came. */
export interface CarriedApproval {
  /** The call's index among the step's calls. */
  index: number;
  /** Workflow time at which the call is denied undecided, and what its denial then says. */
  timeoutAtMs: number;
  expired: string;
  decision?: ApprovalDecision;
}

/**
 * A step whose tool calls were cut short by continue-as-new while some waited for approval: the
 * messages of the calls that finished (by index; null for those still waiting) and the waits.
 */
export interface PendingStep {
  step: number;
  cap: number;
  deadlineMs?: number;
  results: (ChatMessage | null)[];
  approvals: CarriedApproval[];
}

/**
 * Runs the calls of one answer of step `step` in parallel, at most `cap` of them (the rest are
 * answered as not run), and returns their messages in the calls' order. Every call is waited for,
 * so a cancelled run closes only after its tools stopped. When waits for approval were interrupted
 * (the run is to continue as new), returns the step as it stands instead; `pending` is such a step,
 * which this finishes.
 */
export async function runToolCalls(
  calls: ToolCall[],
  step: number,
  context: ToolCallContext,
  cap: number,
  pending?: PendingStep,
): Promise<ChatMessage[] | PendingStep> {
  const settled = await Promise.allSettled(
    calls.slice(0, cap).map(async (call, index) => {
      const done = pending?.results[index];
      if (done) return done;
      const carried = pending?.approvals.find((approval) => approval.index === index);
      return runToolCall(call, `${step}.${index + 1}`, context, carried);
    }),
  );
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const outcomes = settled.map((outcome) => (outcome as PromiseFulfilledResult<ChatMessage | Waiting>).value);
  const waiting = outcomes.flatMap((outcome, index) => ('waiting' in outcome ? [{ ...outcome.waiting, index }] : []));
  if (waiting.length) {
    return {
      step,
      cap,
      ...(context.deadlineMs !== undefined && { deadlineMs: context.deadlineMs }),
      results: outcomes.map((outcome) => ('waiting' in outcome ? null : outcome)),
      approvals: waiting,
    };
  }
  return [...(outcomes as ChatMessage[]), ...calls.slice(cap).map((call) => overCapNotRun(call.id, cap, calls.length))];
}

/** The calls of `step` that wait for approval, as a run that continues lists them; `messages` end with the step's answer. */
export function carriedApprovals(
  step: PendingStep,
  messages: ChatMessage[],
): (PendingApproval & { decision?: ApprovalDecision })[] {
  const last = messages.at(-1);
  const calls = last?.role === 'assistant' ? (last.tool_calls ?? []) : [];
  return step.approvals.map(({ index, decision }) => {
    const call = calls[index];
    const parsed = parseArguments(call.function.arguments);
    return {
      callId: `${step.step}.${index + 1}`,
      tool: call.function.name,
      args: parsed.ok ? parsed.args : call.function.arguments,
      ...(decision && { decision }),
    };
  });
}

/** A call whose approval wait was interrupted: it waits on in the continuation. */
type Waiting = { waiting: Omit<CarriedApproval, 'index'> };

/** The approval wait of a call: until the run's time budget ends, or the approval timeout. */
function approvalWait(deadlineMs: number | undefined, approvalTimeoutMs: number) {
  const leftMs = deadlineMs === undefined ? Infinity : Math.max(1, deadlineMs - Date.now());
  return leftMs < approvalTimeoutMs
    ? { timeoutMs: leftMs, expired: "no decision before the run's time budget ran out, so the call was denied" }
    : {
        timeoutMs: approvalTimeoutMs,
        expired: `no decision within ${approvalTimeoutMs / 1000} seconds, so the call was denied automatically`,
      };
}

/**
 * Runs `call` (id `callId`, `step.index`) and returns the message the model reads about it; or, when
 * its approval wait was interrupted, that it still waits. `carried`: its wait, from the run continued.
 */
export async function runToolCall(
  call: ToolCall,
  callId: string,
  { spec, approvals, approvalTimeoutMs, deadlineMs, memoryUserId, interruptsApprovalWait }: ToolCallContext,
  carried?: CarriedApproval,
): Promise<ChatMessage | Waiting> {
  // Memory tools are the run's own (an agent with memory cannot define tools of those names): no approval.
  if (memoryUserId !== undefined && isMemoryTool(call.function.name))
    return runMemoryCall(call, memoryUserId, deadlineMs);
  const tool = spec.tools.find((candidate) => candidate.name === call.function.name);
  if (!tool) return toolErrorMessage(call.id, unknownToolError(call.function.name, spec.tools));
  const parsed = parseArguments(call.function.arguments);
  if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
  if (tool.requiresApproval) {
    if (!carried) {
      const checked = await checkToolArguments({ agent: spec.name, tool: tool.name, args: parsed.args });
      if (!checked.ok) return toolErrorMessage(call.id, checked.error);
    }
    const wait = carried
      ? { timeoutMs: Math.max(1, carried.timeoutAtMs - Date.now()), expired: carried.expired }
      : approvalWait(deadlineMs, approvalTimeoutMs);
    const timeoutAtMs = Date.now() + wait.timeoutMs;
    // Runs started before approval waits could be carried over wait on whatever their history does.
    const interrupt =
      interruptsApprovalWait && hasPatch(spec, Patch.continueAsNewAwaitingApproval)
        ? interruptsApprovalWait
        : undefined;
    const decision =
      carried?.decision ?? (await approvals.request(callId, tool.name, parsed.args, { ...wait, interrupt }));
    if (!decision) return { waiting: { timeoutAtMs, expired: wait.expired } };
    if (!decision.approve) {
      return deniedMessage(call.id, tool.name, decision.note);
    }
  }
  try {
    // Runs that scheduled calls before the chain id was sent keep their keys: a retry must deduplicate.
    const runChainId = hasPatch(spec, Patch.idempotencyKeyPerRunChain) ? workflowInfo().firstExecutionRunId : undefined;
    const outcome = await runTool(
      tool,
      { agent: spec.name, tool: tool.name, args: parsed.args, callId, runChainId },
      deadlineMs,
    );
    return outcome.ok ? toolMessage(call.id, outcome.content) : toolErrorMessage(call.id, outcome.error);
  } catch (error) {
    if (isCancellation(error)) throw error;
    return toolFailedMessage(call.id, tool.name, describeFailure(error).message);
  }
}

/**
 * One tool call the model asked for, from its arguments to the tool message the model reads back:
 * checked, held for approval when the tool needs it, then run as an activity.
 */
import { isCancellation, workflowInfo } from '@temporalio/workflow';
import type { ToolCallInput, ToolCallOutcome } from '../activities';
import { ErrorType } from '../src/errors';
import { describeFailure, detailsOf } from '../src/failures';
import type { AgentSpec, ApprovalDecision, ChatMessage, PendingApproval, ToolCall, ToolSpec } from '../src/types';
import { checkToolArguments, runTool } from './activities';
import { hasPatch, Patch } from './patch-checks';
import type { Approvals } from './approvals';
import type { SubAgentCaller } from './sub-agent-calls';
import { isMemoryTool, runMemoryCall } from './memory-tools';
import { onRegisteringWorker } from './tool-worker-wait';
import {
  approvedResultMessage,
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
  /** Set for a run whose spec has sub-agents: calls to them run as child runs. */
  subAgents?: SubAgentCaller;
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
  context.subAgents?.beginAnswer(
    calls.slice(0, cap).filter((_, index) => !pending?.results[index]),
    context.deadlineMs,
  );
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
  context: ToolCallContext,
  carried?: CarriedApproval,
): Promise<ChatMessage | Waiting> {
  const { spec, deadlineMs, memoryUserId } = context;
  // Memory tools are the run's own (an agent with memory cannot define tools of those names): no approval.
  if (memoryUserId !== undefined && isMemoryTool(call.function.name))
    return runMemoryCall(call, memoryUserId, deadlineMs);
  if (context.subAgents?.has(call.function.name)) return context.subAgents.call(call, callId);
  const tool = spec.tools.find((candidate) => candidate.name === call.function.name);
  if (!tool) return toolErrorMessage(call.id, unknownToolError(call.function.name, spec.tools));
  const parsed = parseArguments(call.function.arguments);
  if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
  let decision: ApprovalDecision | undefined;
  if (tool.requiresApproval) {
    const held = await approvalOf(call, callId, tool, parsed.args, context, carried);
    if ('waiting' in held) return held;
    if ('message' in held) return held.message;
    decision = held.decision;
  }
  try {
    // Runs that scheduled calls before the chain id was sent keep their keys: a retry must deduplicate.
    const runChainId = hasPatch(spec, Patch.idempotencyKeyPerRunChain) ? workflowInfo().firstExecutionRunId : undefined;
    // An approver's edited arguments replace the model's (the update's handler checked them).
    const input = {
      agent: spec.name,
      tool: tool.name,
      args: decision?.args ?? parsed.args,
      callId,
      runChainId,
      ...(tool.mcp && { mcp: tool.mcp }),
    };
    const outcome = tool.local
      ? await runLocalTool(spec, tool, input, deadlineMs)
      : await onRegisteringWorker(spec, tool.name, (eager) => runTool(tool, input, deadlineMs, eager), deadlineMs);
    if (!outcome.ok) return toolErrorMessage(call.id, outcome.error);
    // The model reads what the approver said and changed (runs started before read the result alone).
    const told = decision && (decision.note !== undefined || decision.args !== undefined);
    return told && hasPatch(spec, Patch.approvalEdits)
      ? approvedResultMessage(call.id, outcome.content, decision!)
      : toolMessage(call.id, outcome.content);
  } catch (error) {
    if (isCancellation(error)) throw error;
    return toolFailedMessage(call.id, tool.name, describeFailure(error).message);
  }
}

/**
 * A local tool's call, on this worker. In a mixed fleet this worker may not register the tool (it runs
 * a run whose agent it lacks): the call is then made again as a regular one, never eager (this worker
 * would take it back), for a worker of the run's queue that registers it.
 */
async function runLocalTool(
  spec: AgentSpec,
  tool: ToolSpec,
  input: ToolCallInput,
  deadlineMs: number | undefined,
): Promise<ToolCallOutcome> {
  try {
    return await runTool(tool, input, deadlineMs);
  } catch (error) {
    const notRegistered = detailsOf(error, ErrorType.ToolNotRegistered) !== undefined;
    if (!notRegistered || !hasPatch(spec, Patch.callsReachRegisteringWorkers)) throw error;
    const { local: _local, ...regular } = tool;
    return onRegisteringWorker(spec, tool.name, () => runTool(regular, input, deadlineMs, false), deadlineMs);
  }
}

/**
 * The decision on a call to a tool that may need approval: none when its arguments need none (a tool
 * whose approval depends on them), an approval; or what the model reads instead (bad arguments, a
 * denial); or, when the wait was interrupted, that the call still waits.
 */
async function approvalOf(
  call: ToolCall,
  callId: string,
  tool: ToolSpec,
  args: unknown,
  { spec, approvals, approvalTimeoutMs, deadlineMs, interruptsApprovalWait }: ToolCallContext,
  carried?: CarriedApproval,
): Promise<{ decision?: ApprovalDecision } | { message: ChatMessage } | Waiting> {
  // An MCP tool's arguments are its server's to check, when it is called: there is no schema here to check them by.
  if (!carried && !tool.mcp) {
    const checked = await onRegisteringWorker(
      spec,
      tool.name,
      (eager) => checkToolArguments({ agent: spec.name, tool: tool.name, args }, eager),
      deadlineMs,
    );
    if (!checked.ok) return { message: toolErrorMessage(call.id, checked.error) };
    if (tool.approvalByArguments && checked.requiresApproval === false) return {};
  }
  const wait = carried
    ? { timeoutMs: Math.max(1, carried.timeoutAtMs - Date.now()), expired: carried.expired }
    : approvalWait(deadlineMs, approvalTimeoutMs);
  const timeoutAtMs = Date.now() + wait.timeoutMs;
  // Runs started before approval waits could be carried over wait on whatever their history does.
  const interrupt =
    interruptsApprovalWait && hasPatch(spec, Patch.continueAsNewAwaitingApproval) ? interruptsApprovalWait : undefined;
  const decision = carried?.decision ?? (await approvals.request(callId, tool.name, args, { ...wait, interrupt }));
  if (!decision) return { waiting: { timeoutAtMs, expired: wait.expired } };
  if (!decision.approve) return { message: deniedMessage(call.id, tool.name, decision.note) };
  return { decision };
}

/**
 * The `approval` update's check of edited arguments: the tool's schema, on a worker that registers
 * the tool. An error for the approver, or none.
 */
export async function checkEditedArguments(
  spec: AgentSpec,
  tool: string,
  args: Record<string, unknown>,
): Promise<string | undefined> {
  // Runs that started before approvals could edit arguments record a marker from here on.
  if (!hasPatch(spec, Patch.approvalEdits)) return 'this run started before approvals could edit arguments';
  // The server checks an MCP tool's arguments when it is called; the model reads what it says of them.
  if (spec.tools.find((candidate) => candidate.name === tool)?.mcp) return undefined;
  const checked = await onRegisteringWorker(spec, tool, (eager) =>
    checkToolArguments({ agent: spec.name, tool, args }, eager),
  );
  return checked.ok ? undefined : checked.error;
}

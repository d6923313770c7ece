/**
 * One tool call the model asked for, from its arguments to the tool message the model reads back:
 * checked, held for approval when the tool needs it, then run as an activity.
 */
import { isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { describeFailure } from '../src/failures';
import type { AgentSpec, ChatMessage, ToolCall } from '../src/types';
import { checkToolArguments, runTool } from './activities';
import { Patch } from './patches';
import type { Approvals } from './approvals';
import { isMemoryTool, runMemoryCall } from './memory';
import { parseArguments, toolErrorMessage, toolMessage, unknownToolError } from './tool-messages';

export interface ToolCallContext {
  spec: AgentSpec;
  approvals: Approvals;
  approvalTimeoutMs: number;
  /** Workflow time by which calls and approval waits end: the run's time budget. */
  deadlineMs?: number;
  /** Set for a memory-enabled agent's run with a user: its `remember`/`forget` calls go to this user's memory. */
  memoryUserId?: string;
}

/**
 * Runs the calls of one answer of step `step` in parallel, at most `cap` of them (the rest are
 * answered as not run), and returns their messages in the calls' order. Every call is waited for,
 * so a cancelled run closes only after its tools stopped.
 */
export async function runToolCalls(
  calls: ToolCall[],
  step: number,
  context: ToolCallContext,
  cap: number,
): Promise<ChatMessage[]> {
  const settled = await Promise.allSettled(
    calls.slice(0, cap).map((call, index) => runToolCall(call, `${step}.${index + 1}`, context)),
  );
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  const notRun = `Not run: one answer may make at most ${cap} tool calls and this one made ${calls.length}. Make the calls you still need in your next answer.`;
  return [
    ...settled.map((outcome) => (outcome as PromiseFulfilledResult<ChatMessage>).value),
    ...calls.slice(cap).map((call) => toolErrorMessage(call.id, notRun)),
  ];
}

/** Runs `call` (id `callId`, `step.index`) and returns the message the model reads about it. */
export async function runToolCall(
  call: ToolCall,
  callId: string,
  { spec, approvals, approvalTimeoutMs, deadlineMs, memoryUserId }: ToolCallContext,
): Promise<ChatMessage> {
  // Memory tools are the run's own (an agent with memory cannot define tools of those names): no approval.
  if (memoryUserId !== undefined && isMemoryTool(call.function.name))
    return runMemoryCall(call, memoryUserId, deadlineMs);
  const tool = spec.tools.find((candidate) => candidate.name === call.function.name);
  if (!tool) return toolErrorMessage(call.id, unknownToolError(call.function.name, spec.tools));
  const parsed = parseArguments(call.function.arguments);
  if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
  if (tool.requiresApproval) {
    const checked = await checkToolArguments({ agent: spec.name, tool: tool.name, args: parsed.args });
    if (!checked.ok) return toolErrorMessage(call.id, checked.error);
    const leftMs = deadlineMs === undefined ? Infinity : Math.max(1, deadlineMs - Date.now());
    const decision = await approvals.request(
      callId,
      tool.name,
      parsed.args,
      leftMs < approvalTimeoutMs
        ? { timeoutMs: leftMs, expired: "no decision before the run's time budget ran out, so the call was denied" }
        : {
            timeoutMs: approvalTimeoutMs,
            expired: `no decision within ${approvalTimeoutMs / 1000} seconds, so the call was denied automatically`,
          },
    );
    if (!decision.approve) {
      return toolMessage(
        call.id,
        JSON.stringify({
          denied: true,
          error: `A person denied this call to ${tool.name}.`,
          note: decision.note ?? null,
        }),
      );
    }
  }
  try {
    // Runs that scheduled calls before the chain id was sent keep their keys: a retry must deduplicate.
    const runChainId = patched(Patch.idempotencyKeyPerRunChain) ? workflowInfo().firstExecutionRunId : undefined;
    const outcome = await runTool(
      tool,
      { agent: spec.name, tool: tool.name, args: parsed.args, callId, runChainId },
      deadlineMs,
    );
    return outcome.ok ? toolMessage(call.id, outcome.content) : toolErrorMessage(call.id, outcome.error);
  } catch (error) {
    if (isCancellation(error)) throw error;
    return toolErrorMessage(call.id, `Tool ${tool.name} failed: ${describeFailure(error).message}`);
  }
}

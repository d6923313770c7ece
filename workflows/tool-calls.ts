/**
 * One tool call the model asked for, from its arguments to the tool message the model reads back:
 * checked, held for approval when the tool needs it, then run as an activity.
 */
import { isCancellation, patched, workflowInfo } from '@temporalio/workflow';
import { describeFailure } from '../src/failures';
import type { AgentSpec, ChatMessage, ToolCall } from '../src/types';
import { checkToolArguments, runTool } from './activities';
import type { Approvals } from './approvals';
import { parseArguments, toolErrorMessage, toolMessage, unknownToolError } from './tool-messages';

/** Tool calls carry the run chain's id, so a run reusing a workflow id gets new idempotency keys. */
const IDEMPOTENCY_KEY_PER_RUN_CHAIN = 'idempotency-key-per-run-chain';

export interface ToolCallContext {
  spec: AgentSpec;
  approvals: Approvals;
  approvalTimeoutMs: number;
}

/** Runs `call` (id `callId`, `step.index`) and returns the message the model reads about it. */
export async function runToolCall(
  call: ToolCall,
  callId: string,
  { spec, approvals, approvalTimeoutMs }: ToolCallContext,
): Promise<ChatMessage> {
  const tool = spec.tools.find((candidate) => candidate.name === call.function.name);
  if (!tool) return toolErrorMessage(call.id, unknownToolError(call.function.name, spec.tools));
  const parsed = parseArguments(call.function.arguments);
  if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
  if (tool.requiresApproval) {
    const checked = await checkToolArguments({ agent: spec.name, tool: tool.name, args: parsed.args });
    if (!checked.ok) return toolErrorMessage(call.id, checked.error);
    const decision = await approvals.request(callId, tool.name, parsed.args, approvalTimeoutMs);
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
    const runChainId = patched(IDEMPOTENCY_KEY_PER_RUN_CHAIN) ? workflowInfo().firstExecutionRunId : undefined;
    const outcome = await runTool(tool, { agent: spec.name, tool: tool.name, args: parsed.args, callId, runChainId });
    return outcome.ok ? toolMessage(call.id, outcome.content) : toolErrorMessage(call.id, outcome.error);
  } catch (error) {
    if (isCancellation(error)) throw error;
    return toolErrorMessage(call.id, `Tool ${tool.name} failed: ${describeFailure(error).message}`);
  }
}

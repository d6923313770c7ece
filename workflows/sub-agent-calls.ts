/**
 * A call to a sub-agent: the model called the sub-agent's tool with `{ "message": ... }`, and the call
 * runs the sub-agent as a child run (`agentRun`, task mode) with the id `<this run's id>/<call id>`,
 * on this run's task queue, cancelled with this run. Its answer is the call's result; a child that
 * failed is a tool error the model can act on, never a failed run. The tree shares one budget: the
 * sub-agents of one answer split what this run has left (less its own wrap-up after them), and may
 * nest only `limits.maxDepth` levels deep.
 */
import {
  CancellationScope,
  ChildWorkflowCancellationType,
  isCancellation,
  ParentClosePolicy,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { z } from 'zod';
import type { ModelTool } from '../activities';
import { CALL_PATH_SEPARATOR, WorkflowType } from '../src/contract';
import { DEFAULT_MAX_DEPTH, DEFAULT_TOOL_RESULT_MAX_BYTES } from '../src/defaults';
import { describeFailure } from '../src/failures';
import { messageTextSchema, usageSchema, type ParsedAgentRunInput, type SubAgentLink } from '../src/input';
import { RUN_ID_MAX_BYTES } from '../src/run-id';
import {
  RunMode,
  RunStatus,
  type AgentRunResult,
  type AgentSpec,
  type ChatMessage,
  type Limits,
  type ToolCall,
} from '../src/types';
import { describeIssues, serializedBytes, truncateUtf8, utf8Bytes } from '../src/validation';
import type { Budget } from './budget';
import { hasPatch, Patch } from './patch-checks';
import { usageOfFailedSubAgent } from './run-failures';
import type { SubAgentTree } from './sub-agent-tree';
import { invalidArgumentsMessage, parseArguments, toolErrorMessage, toolMessage } from './tool-messages';

/** The input schema the model sees for every sub-agent. */
const SUB_AGENT_PARAMETERS = {
  type: 'object',
  properties: {
    message: { type: 'string', description: 'What to ask the sub-agent, with everything it needs to know.' },
  },
  required: ['message'],
  additionalProperties: false,
};

/** Less than this many tokens left for a sub-agent: it could not answer anything, so it is not started. */
const MIN_SUB_AGENT_TOKENS = 256;
/** A failed sub-agent's reason, as the model reads it, at most. */
const FAILURE_REASON_BYTES = 1_024;

/** The sub-agents of `spec` as tools the model is offered. */
export function subAgentTools(spec: AgentSpec): ModelTool[] {
  return (spec.subAgents ?? []).map(({ name, description }) => ({
    name,
    description,
    parameters: SUB_AGENT_PARAMETERS,
  }));
}

/**
 * A sub-agent's result, checked: it comes from another run. Built on use: the SDK evaluates this
 * module for every run, with sub-agents or not.
 */
function subAgentResultSchema() {
  return z.looseObject({
    status: z.enum([RunStatus.completed, RunStatus.limitReached, RunStatus.stuck]),
    // Text, or the object of a sub-agent with an output schema.
    output: z.union([z.string(), z.record(z.string(), z.unknown())]),
    usage: usageSchema,
    limit: z.string().optional(),
    reason: z.string().optional(),
  });
}

/** What the caps of the sub-agents of one answer are, set once per answer so they split one budget. */
type Caps = SubAgentLink['caps'];

export class SubAgentCaller {
  /** What each sub-agent of the current answer may spend. */
  private caps: Caps | undefined;

  constructor(
    private readonly spec: AgentSpec,
    private readonly input: ParsedAgentRunInput,
    private readonly limits: Limits,
    private readonly budget: Budget,
    private readonly tree: SubAgentTree,
    /** The run's transcript, for the size of its next request. */
    private readonly messages: ChatMessage[],
  ) {}

  /** Whether `name` is one of the run's sub-agents. */
  has(name: string): boolean {
    return this.spec.subAgents?.some((sub) => sub.name === name) ?? false;
  }

  /**
   * An answer's calls are about to run (those not yet run, of a step carried over): its sub-agents
   * split what the run has left, and each may run as long as the run's step may (`deadlineMs`).
   */
  beginAnswer(calls: ToolCall[], deadlineMs: number | undefined): void {
    const count = calls.filter((call) => this.has(call.function.name)).length;
    if (count) this.caps = this.capsFor(count, deadlineMs);
  }

  private capsFor(count: number, deadlineMs: number | undefined): Caps {
    const left = this.budget.leftForSubAgents(serializedBytes(this.messages), count);
    const maxDepth = (this.limits.maxDepth ?? DEFAULT_MAX_DEPTH) - 1;
    return {
      maxDepth: Math.max(0, maxDepth),
      ...(left.maxTokens !== undefined && { maxTokens: Math.floor(left.maxTokens / count) }),
      ...(left.maxCostUsd !== undefined && { maxCostUsd: left.maxCostUsd / count }),
      ...(deadlineMs !== undefined && { maxDurationSeconds: Math.max(0, (deadlineMs - Date.now()) / 1000) }),
    };
  }

  /** Runs the sub-agent of `call` (id `callId`) to its answer, which the model reads as the call's result. */
  async call(call: ToolCall, callId: string): Promise<ChatMessage> {
    const agent = call.function.name;
    const parsed = parseArguments(call.function.arguments);
    if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
    const args = z.object({ message: messageTextSchema }).strict().safeParse(parsed.args);
    if (!args.success) return invalidArgumentsMessage(call.id, agent, describeIssues(args.error));
    this.caps ??= this.capsFor(1, undefined);
    const workflowId = `${workflowInfo().workflowId}${CALL_PATH_SEPARATOR}${callId}`;
    const refusal = this.refusal(workflowId);
    if (refusal) return toolErrorMessage(call.id, `Sub-agent ${agent} was not run: ${refusal}`);
    this.tree.starting({ callId, toolCallId: call.id, agent, workflowId });
    let usage: AgentRunResult['usage'] | undefined;
    try {
      const child = await startChild(WorkflowType.agentRun, {
        workflowId,
        taskQueue: workflowInfo().taskQueue,
        args: [this.childInput(agent, args.data.message)],
        // The parent's cancellation reaches the child, and the parent closes only once the child has.
        cancellationType: ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
        parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
        staticSummary: `sub-agent ${agent} · call ${callId}`,
      });
      const result = subAgentResultSchema().safeParse(await child.result());
      if (!result.success) return toolErrorMessage(call.id, `Sub-agent ${agent} answered in an unknown shape.`);
      usage = result.data.usage;
      return toolMessage(call.id, answerOf(agent, result.data));
    } catch (error) {
      // This run's cancellation stops it; a sub-agent cancelled or failed on its own is the model's to handle.
      if (isCancellation(error) && CancellationScope.current().consideredCancelled) throw error;
      if (hasPatch(this.spec, Patch.failedSubAgentUsage)) usage = usageOfFailedSubAgent(error);
      const { type, message } = describeFailure(error);
      const reason = truncateUtf8(message, FAILURE_REASON_BYTES);
      return toolErrorMessage(call.id, `Sub-agent ${agent} failed${type ? ` (${type})` : ''}: ${reason}`);
    } finally {
      this.tree.ended(callId, usage);
    }
  }

  /** Why no sub-agent may start now as `workflowId` (too deep, no budget left, an id too long), or undefined. */
  private refusal(workflowId: string): string | undefined {
    const caps = this.caps!;
    if ((this.limits.maxDepth ?? DEFAULT_MAX_DEPTH) < 1) {
      return 'sub-agents may not nest deeper here (limits.maxDepth). Answer with what you have.';
    }
    // SQL persistence stores a workflow id in 255 characters, and a child start past that never ends.
    if (utf8Bytes(workflowId) > RUN_ID_MAX_BYTES) {
      return `its run id would pass ${RUN_ID_MAX_BYTES} bytes (this run's id is too long to nest under). Answer with what you have.`;
    }
    if (caps.maxTokens !== undefined && caps.maxTokens < MIN_SUB_AGENT_TOKENS) {
      return 'too few tokens are left in the budget (maxTokens). Answer with what you have.';
    }
    if (caps.maxCostUsd !== undefined && caps.maxCostUsd <= 0) {
      return 'no money is left in the budget (maxCostUsd). Answer with what you have.';
    }
    if (caps.maxDurationSeconds !== undefined && caps.maxDurationSeconds < 1) {
      return 'no time is left in the budget (maxDurationSeconds). Answer with what you have.';
    }
    return undefined;
  }

  /** The sub-agent run's input: a task, for this run's user, within what the tree has left. */
  private childInput(agent: string, message: string): ParsedAgentRunInput {
    const { userId, approvalTimeoutSeconds, subAgent } = this.input;
    const { maxDurationSeconds, ...caps } = this.caps!;
    return {
      agent,
      message,
      mode: RunMode.task,
      ...(userId !== undefined && { userId }),
      ...(approvalTimeoutSeconds !== undefined && { approvalTimeoutSeconds }),
      subAgent: {
        path: [...(subAgent?.path ?? [this.spec.name]), agent],
        caps: { ...caps, ...(maxDurationSeconds !== undefined && { maxDurationSeconds }) },
      },
    };
  }
}

/** What the model reads of a sub-agent's answer: bounded like a tool's result, with how it ended if it ran out. */
function answerOf(agent: string, result: z.infer<ReturnType<typeof subAgentResultSchema>>): string {
  const bound = DEFAULT_TOOL_RESULT_MAX_BYTES;
  const text = typeof result.output === 'string' ? result.output : JSON.stringify(result.output);
  const output =
    utf8Bytes(text) > bound ? `${truncateUtf8(text, bound)}\n[cut: the answer was longer than ${bound} bytes]` : text;
  if (result.status === RunStatus.limitReached) {
    return `Sub-agent ${agent} stopped at its budget (${result.status}, ${truncateUtf8(result.limit ?? '', 64)}). What it had:\n${output}`;
  }
  if (result.status === RunStatus.stuck)
    return `Sub-agent ${agent} got stuck (${result.status}). What it had:\n${output}`;
  return output;
}

/** The sub-agent caps of a run's input applied to its limits: the least of the two for each. */
export function cappedLimits(limits: Limits, caps: Caps | undefined): Limits {
  if (!caps) return limits;
  const least = (own: number | undefined, cap: number | undefined) =>
    cap === undefined ? own : Math.min(own ?? Infinity, cap);
  const capped: Limits = { ...limits, maxDepth: least(limits.maxDepth ?? DEFAULT_MAX_DEPTH, caps.maxDepth) };
  for (const name of ['maxTokens', 'maxCostUsd', 'maxDurationSeconds'] as const) {
    const value = least(limits[name], caps[name]);
    if (value !== undefined) capped[name] = value;
  }
  return capped;
}

/**
 * The activities as the run calls them, each with its timeouts and retry policy: short fixed ones
 * for the spec and argument checks, the worker's model-call policy recorded in the spec, and each
 * tool's own timeout, retry policy and task queue.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities, ModelCallResult, ModelTool, ToolCallInput, ToolCallOutcome } from '../activities';
import { ErrorType, NON_RETRYABLE_MODEL_ERRORS } from '../src/errors';
import type { AgentSpec, ChatMessage, ToolSpec } from '../src/types';

export const { resolveAgentSpec, checkToolArguments } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.UnknownAgent, ErrorType.ToolNotRegistered] },
});

/** One model call of step `step` over the transcript so far (shown as `model <name> · step N` in the Web UI). */
export function callModel(
  spec: AgentSpec,
  step: number,
  messages: ChatMessage[],
  tools: ModelTool[],
): Promise<ModelCallResult> {
  return proxyActivities<Activities>({
    summary: `model ${spec.model} · step ${step}`,
    startToCloseTimeout: spec.modelCall.requestTimeoutMs + 5_000,
    heartbeatTimeout: spec.modelCall.heartbeatTimeoutMs,
    retry: {
      maximumAttempts: spec.modelCall.maxAttempts,
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '60s',
      nonRetryableErrorTypes: NON_RETRYABLE_MODEL_ERRORS,
    },
  }).callModel({
    agent: spec.name,
    model: spec.model,
    step,
    messages,
    tools,
    requestTimeoutMs: spec.modelCall.requestTimeoutMs,
  });
}

/** Runs a tool under its own policy (shown as `tool <name>` in the Web UI). */
export function runTool(tool: ToolSpec, input: ToolCallInput): Promise<ToolCallOutcome> {
  return proxyActivities<Activities>({
    summary: `tool ${tool.name}`,
    startToCloseTimeout: tool.startToCloseTimeoutMs,
    heartbeatTimeout: tool.heartbeatTimeoutMs,
    retry: tool.retry,
    taskQueue: tool.taskQueue,
  }).runTool(input);
}

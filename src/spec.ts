/**
 * Turns a registered agent into the plain-JSON spec a run records in its history.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { AgentDefinition } from './agent';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS, DEFAULT_TOOL_RETRY, DEFAULT_TOOL_TIMEOUT } from './defaults';
import type { ToolDefinition } from './tool';
import type { AgentSpec, ModelCallPolicy, ToolSpec } from './types';

/** The JSON schema the model sees for a tool's arguments, exported from its zod schema. */
export function toolParameters(tool: ToolDefinition): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(tool.input, { io: 'input' });
  return schema;
}

function toolSpec(tool: ToolDefinition, agent: AgentDefinition): ToolSpec {
  return {
    name: tool.name,
    description: tool.description,
    parameters: toolParameters(tool),
    requiresApproval: Boolean(tool.requiresApproval) || (agent.approval?.tools ?? []).includes(tool.name),
    startToCloseTimeoutMs: msToNumber(tool.timeout ?? DEFAULT_TOOL_TIMEOUT),
    heartbeatTimeoutMs: tool.heartbeatTimeout === undefined ? undefined : msToNumber(tool.heartbeatTimeout),
    retry: { ...DEFAULT_TOOL_RETRY, ...tool.retry },
    taskQueue: tool.taskQueue,
  };
}

/** Resolves the spec of `agent`; the model comes from the run, else the agent, else `defaultModel`. */
export function resolveSpec(
  agent: AgentDefinition,
  options: { model?: string; defaultModel: string; modelCall: ModelCallPolicy; transcriptMaxBytes: number },
): AgentSpec {
  return {
    name: agent.name,
    description: agent.description ?? '',
    instructions: agent.instructions,
    model: options.model ?? agent.model ?? options.defaultModel,
    tools: agent.tools.map((tool) => toolSpec(tool, agent)),
    limits: agent.limits ?? {},
    approvalTimeoutSeconds: agent.approval?.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    modelCall: options.modelCall,
    transcriptMaxBytes: options.transcriptMaxBytes,
  };
}

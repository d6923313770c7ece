/**
 * Turns a registered agent into the plain-JSON spec a run records in its history.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import type { AgentDefinition } from './agent';
import {
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_MODEL_STRUCTURED_OUTPUT,
  DEFAULT_TOOL_HEARTBEAT_TIMEOUT,
  DEFAULT_TOOL_RETRY,
  DEFAULT_TOOL_TIMEOUT,
  LONGEST_MODEL_PACING_SECONDS,
} from './defaults';
import type { WorkerConfig } from './config';
import { buildContextWindows, runContextWindow, type ContextWindows } from './context-windows';
import type { McpServerDefinition, McpServerSpec } from './mcp-server';
import { outputSpecOf } from './output-schema';
import { buildPriceTable, type PriceTable } from './pricing';
import type { ToolDefinition } from './tool';
import {
  LocalCallKind,
  MemoryScope,
  UsageAttributes,
  type AgentSpec,
  type ModelCallPolicy,
  type ToolSpec,
} from './types';

/** The JSON schema the model sees for a tool's arguments, exported from its zod schema. */
export function toolParameters(tool: ToolDefinition): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(tool.input, { io: 'input' });
  return schema;
}

/**
 * Whether `tool` runs as a local activity: its own `local` wins, else the agent's or worker's default
 * for tools, which a tool routed to another task queue cannot follow.
 */
function runsLocally(tool: ToolDefinition, localTools: boolean): boolean {
  return tool.local ?? (localTools && tool.taskQueue === undefined);
}

function toolSpec(
  tool: ToolDefinition,
  agent: AgentDefinition,
  localTools: boolean,
  toolTaskQueue: string | undefined,
): ToolSpec {
  const local = runsLocally(tool, localTools);
  const byArguments = typeof tool.requiresApproval === 'function';
  return {
    name: tool.name,
    description: tool.description,
    parameters: toolParameters(tool),
    requiresApproval: Boolean(tool.requiresApproval) || (agent.approval?.tools ?? []).includes(tool.name),
    // Only when set, so the specs of other tools stay as they were recorded.
    ...(byArguments && { approvalByArguments: true as const }),
    startToCloseTimeoutMs: msToNumber(tool.timeout ?? DEFAULT_TOOL_TIMEOUT),
    heartbeatTimeoutMs: msToNumber(tool.heartbeatTimeout ?? DEFAULT_TOOL_HEARTBEAT_TIMEOUT),
    retry: { ...DEFAULT_TOOL_RETRY, ...tool.retry },
    taskQueue: tool.taskQueue ?? (local ? undefined : toolTaskQueue),
    // Only when on, so the specs of regular tools stay as they were recorded.
    ...(local && { local: true }),
  };
}

/** What a run records of an MCP server: the policy of its calls, and the task queue they go to. */
function mcpServerSpec(server: McpServerDefinition, toolTaskQueue: string | undefined): McpServerSpec {
  return {
    name: server.name,
    requiresApproval: server.requiresApproval ?? false,
    startToCloseTimeoutMs: msToNumber(server.timeout ?? DEFAULT_TOOL_TIMEOUT),
    heartbeatTimeoutMs: msToNumber(server.heartbeatTimeout ?? DEFAULT_TOOL_HEARTBEAT_TIMEOUT),
    retry: { ...DEFAULT_TOOL_RETRY, ...server.retry },
    ...((server.taskQueue ?? toolTaskQueue) !== undefined && { taskQueue: server.taskQueue ?? toolTaskQueue }),
  };
}

export interface SpecOptions {
  /** The run's model and fallback models, when its input names them. */
  model?: string;
  fallbackModels?: string[];
  defaultModel: string;
  modelCall: ModelCallPolicy;
  transcriptMaxBytes: number;
  prices: PriceTable;
  contextWindows: ContextWindows;
  /** The share of the context window past which the conversation is summarised. */
  contextCompactAt: number;
  /** A run continues as new between steps once its history passes this size. */
  continueAsNewAtBytes: number;
  /** A run that cannot continue as new fails `HistoryLimit` once its history passes this size. */
  historyLimitBytes: number;
  /** The worker's `LOCAL_ACTIVITIES`: calls that run as local activities unless the agent says otherwise. */
  localActivities?: readonly LocalCallKind[];
  /** Where regular model calls and tool calls (of tools without a queue of their own) are scheduled. */
  modelTaskQueue?: string;
  toolTaskQueue?: string;
  /** The worker's `MODEL_STRUCTURED_OUTPUT`: whether its models take `response_format: json_schema`. */
  structuredOutput?: boolean;
  /** The optional search attributes registered in the namespace when the worker started. */
  registeredSearchAttributes?: readonly string[];
  /** The worker's `USAGE_ATTRIBUTES`. */
  usageAttributes?: UsageAttributes;
}

/** The worker settings a spec records: all of `SpecOptions` but the run's own choice of models. */
export type WorkerSpecSettings = Omit<SpecOptions, 'model' | 'fallbackModels'>;

/**
 * The worker's configuration as the settings every spec it resolves records: the one place where a
 * run-recorded setting goes from env to spec (CONTRIBUTING.md lists the others). `discoveredWindows`:
 * the context windows the model server said (runtime/context-window-probe.ts).
 */
export function specSettingsOf(config: WorkerConfig, discoveredWindows: ContextWindows = {}): WorkerSpecSettings {
  return {
    defaultModel: config.AGENT_MODEL,
    modelCall: {
      requestTimeoutMs: config.MODEL_TIMEOUT_SECONDS * 1000,
      heartbeatTimeoutMs: config.MODEL_HEARTBEAT_SECONDS * 1000,
      maxAttempts: config.MODEL_MAX_ATTEMPTS,
      rateLimitBudgetMs: config.MODEL_RATE_LIMIT_SECONDS * 1000,
      unavailableBudgetMs: config.MODEL_UNAVAILABLE_SECONDS * 1000,
      unparsedAttempts: config.MODEL_UNPARSED_ATTEMPTS,
      pacingWaitMs: LONGEST_MODEL_PACING_SECONDS * 1000,
    },
    transcriptMaxBytes: config.TRANSCRIPT_MAX_BYTES,
    prices: buildPriceTable(config.MODEL_PRICES),
    contextWindows: buildContextWindows(config.MODEL_CONTEXT_WINDOWS, discoveredWindows),
    contextCompactAt: config.CONTEXT_COMPACT_AT,
    continueAsNewAtBytes: config.CONTINUE_AS_NEW_AT_BYTES,
    historyLimitBytes: config.HISTORY_LIMIT_BYTES,
    localActivities: config.LOCAL_ACTIVITIES,
    modelTaskQueue: config.MODEL_TASK_QUEUE,
    toolTaskQueue: config.TOOL_TASK_QUEUE,
    structuredOutput: config.MODEL_STRUCTURED_OUTPUT,
    usageAttributes: config.USAGE_ATTRIBUTES,
  };
}

/**
 * Resolves the spec of `agent`, whose MCP servers are `mcpServers`; the model comes from the run, else
 * the agent, else `defaultModel`, and the fallback models from the run, else the agent.
 */
export function resolveSpec(
  agent: AgentDefinition,
  options: SpecOptions,
  mcpServers: readonly McpServerDefinition[] = [],
): AgentSpec {
  const model = options.model ?? agent.model ?? options.defaultModel;
  const fallbackModels = options.fallbackModels ?? agent.fallbackModels ?? [];
  const priced = [model, ...fallbackModels].filter((name) => Object.hasOwn(options.prices, name));
  const local = agent.localActivities ?? options.localActivities ?? [];
  const contextWindowTokens = runContextWindow(
    options.contextWindows,
    [model, ...fallbackModels],
    agent.contextWindowTokens,
  );
  return {
    name: agent.name,
    description: agent.description ?? '',
    instructions: agent.instructions,
    model,
    fallbackModels,
    prices: Object.fromEntries(priced.map((name) => [name, options.prices[name]])),
    tools: agent.tools.map((tool) => toolSpec(tool, agent, local.includes(LocalCallKind.tools), options.toolTaskQueue)),
    limits: agent.limits ?? {},
    approvalTimeoutSeconds: agent.approval?.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    modelCall: {
      ...options.modelCall,
      ...(local.includes(LocalCallKind.model)
        ? { local: true }
        : options.modelTaskQueue !== undefined && { taskQueue: options.modelTaskQueue }),
    },
    transcriptMaxBytes: options.transcriptMaxBytes,
    ...(contextWindowTokens !== undefined && {
      contextWindowTokens,
      compactAtTokens: Math.floor(contextWindowTokens * options.contextCompactAt),
    }),
    continueAsNewAtBytes: options.continueAsNewAtBytes,
    historyLimitBytes: options.historyLimitBytes,
    // Only when set, so the specs of other agents stay as they were recorded.
    ...(agent.modelSettings && Object.keys(agent.modelSettings).length && { modelSettings: agent.modelSettings }),
    // Only when on, so the specs of agents without memory stay as they were recorded. The scope is
    // always recorded with it: a spec without one is from before scopes, and runs as it was recorded.
    ...(agent.memory && { memory: true, memoryScope: agent.memoryScope ?? MemoryScope.agent }),
    // Only for agents with servers, so the specs of others stay as they were recorded.
    ...(mcpServers.length > 0 && {
      mcpServers: mcpServers.map((server) => mcpServerSpec(server, options.toolTaskQueue)),
    }),
    // Only when not the default, so other specs stay as they were recorded.
    ...(options.usageAttributes === UsageAttributes.withStatus && { usageAttributes: UsageAttributes.withStatus }),
    // Only when some are registered, so specs on servers without them stay as they were recorded.
    ...(options.registeredSearchAttributes?.length && {
      searchAttributes: [...options.registeredSearchAttributes],
    }),
    // Only with a schema, so the specs of text agents stay as they were recorded.
    ...(agent.output && {
      output: outputSpecOf(
        agent.name,
        agent.output,
        agent.structuredOutput ?? options.structuredOutput ?? DEFAULT_MODEL_STRUCTURED_OUTPUT,
      ),
    }),
  };
}

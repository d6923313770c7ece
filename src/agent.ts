/**
 * Agent definitions: instructions, a model, tools, budgets and an approval policy.
 */
import type { z } from 'zod';
import { AGENT_NAME } from './contract';
import { DefinitionError } from './errors';
import { handoffToolName, MAX_TOOL_NAME_LENGTH, targetName } from './handoff-targets';
import { fallbackModelsSchema, limitsSchema } from './input';
import { isMcpServerDefinition, MCP_SERVER_NAME, type McpServerDefinition } from './mcp-server';
import { subAgentName, subAgentsProblem, type SubAgentReference } from './sub-agent-definitions';
import { modelSettingsSchema, type ModelSettings } from './model-settings';
import { ANSWER_TOOL_NAME, isZodObject, outputJsonSchema } from './output-schema';
import { namesOf, unknownNames } from './suggest';
import type { ToolDefinition } from './tool';
import { LimitName, LocalCallKind, MemoryScope, MemoryToolName, type Limits } from './types';
import { describeIssues } from './validation';

/** An agent's `output`: a zod object schema, or none (the agent answers in text). */
export type OutputSchema = z.ZodObject | undefined;

/** What an agent author writes; `Output` is its `output` schema's type, so clients can type its results. */
export interface AgentConfig<Output extends OutputSchema = OutputSchema> {
  /** The name runs use (`{"agent": "helpdesk"}`). */
  name: string;
  /**
   * What the model of an agent that lists this one in `agents` reads about it, to decide when to call
   * it, or of one that hands off to it, to decide when to transfer (required for either; at most 2 KiB).
   */
  description?: string;
  /** The system prompt. */
  instructions: string;
  /** Default model; a run's input overrides it, env `AGENT_MODEL` is the fallback. */
  model?: string;
  tools: ToolDefinition[];
  /**
   * Sub-agents: definitions, or names of agents registered on the worker. The model sees each as a tool
   * named after it, with input `{ "message": string }`; a call runs it as a child run whose answer is
   * the tool's result (docs/sub-agents.md).
   */
  agents?: SubAgentReference[];
  /** Default budgets and guards; a run's input overrides each one it names. */
  limits?: Limits;
  approval?: ApprovalPolicy;
  /** Models tried in order when the model's calls keep failing (5xx, timeouts, 429s past their budget). */
  fallbackModels?: string[];
  /**
   * Tokens the model reads at most, when the built-in table and `MODEL_CONTEXT_WINDOWS` do not know it
   * (or you want a smaller one): past `CONTEXT_COMPACT_AT` of it, the oldest turns are summarised.
   */
  contextWindowTokens?: number;
  /**
   * Remember facts about a run's user across sessions: runs with a `userId` get the tools `remember`
   * and `forget`, and start with what was remembered about that user (README: Memory across sessions).
   */
  memory?: boolean;
  /**
   * Whose memory the runs use, with `memory: true`: `'agent'` (the default), this agent's own for each
   * user; `'shared'`, one per user that every agent with `memoryScope: 'shared'` reads and writes.
   */
  memoryScope?: MemoryScope;
  /**
   * Which of this agent's calls run as Temporal local activities, whatever the worker's
   * `LOCAL_ACTIVITIES` says: `['model']`, `['tools']`, both, or `[]` for none. A tool's own `local` wins.
   * Local calls skip a round trip to the server per call, at a price (README: The local-activity fast path).
   */
  localActivities?: LocalCallKind[];
  /**
   * MCP servers whose tools the agent's runs offer the model, as `<server>_<tool>`: `defineMcpServer`
   * results, or the names of servers a plug-in module exports (docs/mcp.md).
   */
  mcpServers?: (McpServerDefinition | string)[];
  /**
   * Request parameters sent with each of this agent's model calls, by their Chat Completions names:
   * `reasoning_effort`, `temperature`, `top_p`, `max_completion_tokens`, `seed`, ... (docs/agents.md).
   * Checked here; a run records them in its spec.
   */
  modelSettings?: ModelSettings;
  /**
   * The final answer's schema, a `z.object(...)`: the run's answer is JSON valid against it, and
   * `result.output` the parsed object. An answer that does not fit goes back to the model with what
   * was wrong (`limits.maxOutputRepairs` times), then the run fails `OutputInvalid`.
   */
  output?: Output;
  /**
   * Whether this agent's models take `response_format: json_schema` (default: the worker's
   * `MODEL_STRUCTURED_OUTPUT`, on); `false`: with `output`, the model answers through a final `answer` tool.
   */
  structuredOutput?: boolean;
  /**
   * Agents this one may hand the conversation to (definitions, or names of agents registered on the
   * same workers): its model gets a tool `transfer_to_<agent>` each, and a run that calls one goes on
   * as that agent, in the same workflow (docs/handoffs.md).
   */
  handoffs?: (AgentDefinition | string)[];
}

/** Which calls of an agent wait for a person, and for how long. */
export interface ApprovalPolicy {
  /** Names of tools that need approval in this agent even if their definition does not say so. */
  tools?: string[];
  /** Undecided calls are denied after this long (default 24 hours). */
  timeoutSeconds?: number;
}

/** A defined agent, ready to register on a worker. */
export type AgentDefinition<Output extends OutputSchema = OutputSchema> = AgentConfig<Output> & {
  readonly kind: 'agent';
};

/** The type of an agent's final answer: its output schema's, or text (`AgentClient.result<OutputOf<typeof agent>>`). */
export type OutputOf<Agent> =
  Agent extends AgentDefinition<infer Output> ? (Output extends z.ZodObject ? z.output<Output> : string) : string;

// Defined with the contract, which workflows import: importing it from here would evaluate this module
// (and every schema it builds) in every run.
export { AGENT_NAME };

/** Every option `defineAgent` knows; anything else is a typo it rejects, not an option it ignores. */
const AGENT_OPTIONS = namesOf<AgentConfig>({
  name: true,
  description: true,
  instructions: true,
  model: true,
  tools: true,
  agents: true,
  limits: true,
  approval: true,
  fallbackModels: true,
  contextWindowTokens: true,
  memory: true,
  memoryScope: true,
  localActivities: true,
  mcpServers: true,
  modelSettings: true,
  output: true,
  structuredOutput: true,
  handoffs: true,
});
const LOCAL_CALL_KINDS: readonly unknown[] = Object.values(LocalCallKind);
const MEMORY_TOOL_NAMES: readonly string[] = Object.values(MemoryToolName);
const MEMORY_SCOPES: readonly unknown[] = Object.values(MemoryScope);
const APPROVAL_OPTIONS = namesOf<ApprovalPolicy>({ tools: true, timeoutSeconds: true });
const BUDGET_NAMES: readonly string[] = Object.values(LimitName);
const LIMIT_NAMES = [
  ...BUDGET_NAMES,
  ...namesOf<Omit<Limits, LimitName>>({
    maxRepeats: true,
    maxToolCallsPerTurn: true,
    maxDepth: true,
    maxOutputRepairs: true,
    lifetime: true,
  }),
];

/** What is wrong with the approval policy, or undefined; a wrong one would let calls run unapproved. */
function approvalProblem(approval: unknown, tools: ToolDefinition[]): string | undefined {
  const toolNames = tools.map((tool) => tool.name);
  if (approval === undefined) return undefined;
  if (typeof approval !== 'object' || approval === null || Array.isArray(approval)) {
    return `approval must be an object such as { tools: ["issue_refund"] }, not ${JSON.stringify(approval)}`;
  }
  const unknown = unknownNames(approval, APPROVAL_OPTIONS, 'approval option');
  if (unknown) return unknown;
  const { tools: listed = [], timeoutSeconds } = approval as ApprovalPolicy;
  if (!Array.isArray(listed) || listed.some((tool) => typeof tool !== 'string')) {
    return `approval.tools must be a list of tool names, not ${JSON.stringify(listed)}`;
  }
  const unknownTools = listed.filter((tool) => !toolNames.includes(tool));
  if (unknownTools.length) return `approval names unknown tools ${unknownTools.join(', ')}`;
  // Two rules for one tool, one of which would be ignored: say which to keep.
  const byArguments = tools.filter((tool) => typeof tool.requiresApproval === 'function' && listed.includes(tool.name));
  if (byArguments.length) {
    return (
      `approval.tools names ${byArguments.map((tool) => tool.name).join(', ')}, whose requiresApproval is a ` +
      'function of the arguments: let the function decide (drop the name from approval.tools) or ask for every ' +
      'call (requiresApproval: true)'
    );
  }
  if (timeoutSeconds !== undefined && !(typeof timeoutSeconds === 'number' && timeoutSeconds > 0)) {
    return 'approval.timeoutSeconds must be a positive number of seconds';
  }
  return undefined;
}

/** Throws if the memory options are wrong: not a boolean, an unknown scope, or a scope without memory. */
function checkMemory({ name, memory, memoryScope }: AgentConfig, toolNames: string[]): void {
  if (memory !== undefined && typeof memory !== 'boolean') {
    throw new DefinitionError(`agent "${name}": memory must be true or false, not ${JSON.stringify(memory)}`);
  }
  if (memoryScope !== undefined && !MEMORY_SCOPES.includes(memoryScope)) {
    throw new DefinitionError(
      `agent "${name}": memoryScope must be "agent" or "shared", not ${JSON.stringify(memoryScope)}`,
    );
  }
  if (memoryScope !== undefined && memory !== true) {
    throw new DefinitionError(`agent "${name}": memoryScope "${memoryScope}" needs memory: true`);
  }
  const taken = memory ? toolNames.find((toolName) => MEMORY_TOOL_NAMES.includes(toolName)) : undefined;
  if (taken) {
    throw new DefinitionError(
      `agent "${name}" has memory, which brings its own tool "${taken}": rename the agent's tool "${taken}"`,
    );
  }
}

/** The name of each server of `mcpServers` (a definition's, or the name given), or what is wrong with the list. */
export function mcpServerNames(mcpServers: AgentConfig['mcpServers']): string[] | string {
  if (mcpServers === undefined) return [];
  if (!Array.isArray(mcpServers)) return 'mcpServers must be a list of defineMcpServer(...) results or server names';
  const names: string[] = [];
  for (const server of mcpServers) {
    const name = isMcpServerDefinition(server) ? server.name : server;
    if (typeof name !== 'string' || !MCP_SERVER_NAME.test(name)) {
      return `mcpServers: ${JSON.stringify(server)} is neither a defineMcpServer(...) result nor a server name`;
    }
    if (names.includes(name)) return `mcpServers lists server "${name}" twice`;
    names.push(name);
  }
  return names;
}

/** Throws if the output options are wrong: not a zod object, not exportable, or beside a tool named `answer`. */
function checkOutput({ name, output, structuredOutput }: AgentConfig, toolNames: string[]): void {
  if (structuredOutput !== undefined && typeof structuredOutput !== 'boolean') {
    throw new DefinitionError(`agent "${name}": structuredOutput must be true or false`);
  }
  if (output === undefined) return;
  if (!isZodObject(output)) {
    throw new DefinitionError(`agent "${name}": output must be a z.object({...}) schema (an answer is a JSON object)`);
  }
  try {
    outputJsonSchema(output);
  } catch (error) {
    throw new DefinitionError(`agent "${name}": output cannot be sent to a model: ${(error as Error).message}`);
  }
  if (toolNames.includes(ANSWER_TOOL_NAME)) {
    throw new DefinitionError(
      `agent "${name}" has an output schema, which may bring its own tool "${ANSWER_TOOL_NAME}": rename the agent's tool "${ANSWER_TOOL_NAME}"`,
    );
  }
}

/**
 * What is wrong with the handoffs, or undefined: each a definition or an agent name, none twice, not
 * the agent itself, and each transfer tool's name a valid tool name that none of the agent's tools or
 * sub-agents has. Whether the named agents exist is checked when the worker starts (`checkHandoffTargets`).
 */
function handoffsProblem({ name, handoffs, agents }: AgentConfig, toolNames: string[]): string | undefined {
  if (handoffs === undefined) return undefined;
  const valid = (target: unknown) =>
    (typeof target === 'string' && AGENT_NAME.test(target)) ||
    (typeof target === 'object' && target !== null && (target as AgentDefinition).kind === 'agent');
  if (!Array.isArray(handoffs) || !handoffs.every(valid)) {
    return 'handoffs must be a list of agents (defineAgent(...) results) or agent names';
  }
  const names = handoffs.map(targetName);
  const tools = names.map(handoffToolName);
  const twice = tools.find((tool, index) => tools.indexOf(tool) !== index);
  if (twice) return `handoffs name two agents whose transfer tool is "${twice}"`;
  if (names.includes(name)) return 'an agent cannot hand off to itself';
  const long = tools.find((tool) => tool.length > MAX_TOOL_NAME_LENGTH);
  if (long)
    return `the transfer tool "${long}" is longer than ${MAX_TOOL_NAME_LENGTH} characters: shorten the agent's name`;
  const taken = tools.find((tool) => toolNames.includes(tool));
  if (taken) return `the tool "${taken}" has the name of a handoff's transfer tool: rename the tool`;
  const subAgent = tools.find((tool) => (agents ?? []).some((reference) => subAgentName(reference) === tool));
  return subAgent ? `the sub-agent "${subAgent}" has the name of a handoff's transfer tool: rename one` : undefined;
}

/** Defines an agent; checks it at once so that a bad one stops the worker at start-up. */
export function defineAgent<Output extends OutputSchema = undefined>(
  config: AgentConfig<Output>,
): AgentDefinition<Output> {
  const name = config?.name;
  const unknown = unknownNames(config, AGENT_OPTIONS, 'option');
  if (unknown) {
    const label = typeof name === 'string' ? `agent ${JSON.stringify(name)}` : 'agent without a name';
    throw new DefinitionError(`${label}: ${unknown}`);
  }
  if (typeof name !== 'string' || !AGENT_NAME.test(name)) {
    throw new DefinitionError(`agent name ${JSON.stringify(name)} must match ${AGENT_NAME}`);
  }
  if (typeof config.instructions !== 'string' || !config.instructions.trim()) {
    throw new DefinitionError(`agent "${name}" needs instructions`);
  }
  if (!Array.isArray(config.tools) || config.tools.some((tool) => tool?.kind !== 'tool')) {
    throw new DefinitionError(`agent "${name}": tools must be a list of defineTool(...) results`);
  }
  const toolNames = config.tools.map((tool) => tool.name);
  const repeated = toolNames.filter((toolName, index) => toolNames.indexOf(toolName) !== index);
  if (repeated.length) {
    throw new DefinitionError(`agent "${name}" lists tool "${repeated[0]}" twice`);
  }
  checkMemory(config, toolNames);
  const servers = mcpServerNames(config.mcpServers);
  if (typeof servers === 'string') throw new DefinitionError(`agent "${name}": ${servers}`);
  const subAgents = subAgentsProblem(config, toolNames) ?? handoffsProblem(config, toolNames);
  if (subAgents) throw new DefinitionError(`agent "${name}": ${subAgents}`);
  checkOutput(config, toolNames);
  const local = config.localActivities;
  if (
    local !== undefined &&
    !(
      Array.isArray(local) &&
      local.every((kind) => LOCAL_CALL_KINDS.includes(kind)) &&
      new Set(local).size === local.length
    )
  ) {
    throw new DefinitionError(
      `agent "${name}": localActivities must list "model", "tools", both or neither, not ${JSON.stringify(local)}`,
    );
  }
  const approval = approvalProblem(config.approval, config.tools);
  if (approval) throw new DefinitionError(`agent "${name}": ${approval}`);
  // The schema rejects unknown limits too, but without naming the one that was meant.
  const unknownLimits =
    unknownNames(config.limits, LIMIT_NAMES, 'limit') ??
    unknownNames(config.limits?.lifetime, BUDGET_NAMES, 'lifetime limit');
  if (unknownLimits) throw new DefinitionError(`agent "${name}" limits: ${unknownLimits}`);
  const limits = limitsSchema.safeParse(config.limits ?? {});
  if (!limits.success) throw new DefinitionError(`agent "${name}" limits: ${describeIssues(limits.error)}`);
  const fallbackModels = fallbackModelsSchema.safeParse(config.fallbackModels ?? []);
  if (!fallbackModels.success) {
    throw new DefinitionError(`agent "${name}" fallbackModels: ${describeIssues(fallbackModels.error)}`);
  }
  const settings = modelSettingsSchema().safeParse(config.modelSettings ?? {});
  if (!settings.success) {
    throw new DefinitionError(`agent "${name}" modelSettings: ${describeIssues(settings.error)}`);
  }
  const window = config.contextWindowTokens;
  if (window !== undefined && !(Number.isInteger(window) && window >= 1_000)) {
    throw new DefinitionError(
      `agent "${name}": contextWindowTokens must be a whole number of tokens, at least 1000, not ${JSON.stringify(window)}`,
    );
  }
  return { ...config, kind: 'agent' };
}

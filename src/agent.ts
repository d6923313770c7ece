/**
 * Agent definitions: instructions, a model, tools, budgets and an approval policy.
 */
import { DefinitionError } from './errors';
import { limitsSchema } from './input';
import type { ToolDefinition } from './tool';
import type { Limits } from './types';
import { describeIssues } from './validation';

/** What an agent author writes. */
export interface AgentConfig {
  /** The name runs use (`{"agent": "helpdesk"}`). */
  name: string;
  description?: string;
  /** The system prompt. */
  instructions: string;
  /** Default model; a run's input overrides it, env `AGENT_MODEL` is the fallback. */
  model?: string;
  tools: ToolDefinition[];
  /** Default budgets; a run's input overrides each one it names. */
  limits?: Limits;
  approval?: {
    /** Names of tools that need approval in this agent even if their definition does not say so. */
    tools?: string[];
    /** Undecided calls are denied after this long (default 24 hours). */
    timeoutSeconds?: number;
  };
}

/** A defined agent, ready to register on a worker. */
export type AgentDefinition = AgentConfig & { readonly kind: 'agent' };

const AGENT_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/** Defines an agent; checks it at once so that a bad one stops the worker at start-up. */
export function defineAgent(config: AgentConfig): AgentDefinition {
  const name = config?.name;
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
  const unknownApprovals = (config.approval?.tools ?? []).filter((tool) => !toolNames.includes(tool));
  if (unknownApprovals.length) {
    throw new DefinitionError(`agent "${name}": approval names unknown tools ${unknownApprovals.join(', ')}`);
  }
  const limits = limitsSchema.safeParse(config.limits ?? {});
  if (!limits.success) throw new DefinitionError(`agent "${name}" limits: ${describeIssues(limits.error)}`);
  const approvalTimeout = config.approval?.timeoutSeconds;
  if (approvalTimeout !== undefined && !(typeof approvalTimeout === 'number' && approvalTimeout > 0)) {
    throw new DefinitionError(`agent "${name}": approval.timeoutSeconds must be a positive number of seconds`);
  }
  return { ...config, kind: 'agent' };
}

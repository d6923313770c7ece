/**
 * Sub-agents as agent authors write them (`agents: [researcher, 'writer']`) and as a worker checks
 * them at start-up: each one a definition or the name of a registered agent, named like a tool (the
 * model calls it as one), described (the parent's model chooses by the description), and no agent
 * reaching itself through sub-agents unless it bounds the depth (`limits.maxDepth`) itself.
 */
import type { AgentDefinition } from './agent';
import { Bounds } from './defaults';
import { DefinitionError } from './errors';
import type { AgentRegistry } from './registry';
import { MemoryToolName, type SubAgentSpec } from './types';
import { utf8Bytes } from './validation';

/** A sub-agent as `agents` lists it: its definition, or the name of an agent registered on the worker. */
export type SubAgentReference = AgentDefinition | string;

/** Tool names as OpenAI-compatible servers accept them: a sub-agent is offered to the model as a tool. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MEMORY_TOOL_NAMES: readonly string[] = Object.values(MemoryToolName);

/** The name of a sub-agent reference (undefined for something that is neither a definition nor a name). */
export function subAgentName(reference: unknown): string | undefined {
  if (typeof reference === 'string') return reference;
  const candidate = reference as Partial<AgentDefinition> | null | undefined;
  return candidate?.kind === 'agent' && typeof candidate.name === 'string' ? candidate.name : undefined;
}

/** What is wrong with a description, or undefined. */
export function descriptionProblem(description: unknown): string | undefined {
  if (description === undefined) return undefined;
  if (typeof description !== 'string' || !description.trim()) return 'description must be a non-empty string';
  const bytes = utf8Bytes(description);
  return bytes > Bounds.descriptionBytes
    ? `description is ${bytes} bytes, at most ${Bounds.descriptionBytes}: it goes to the model with every call`
    : undefined;
}

/**
 * What is wrong with an agent's own `agents` option, as far as one definition can tell (the names of
 * registered agents are checked at worker start, `checkSubAgentTree`), or undefined.
 */
export function subAgentsProblem(
  config: { description?: unknown; agents?: unknown; memory?: unknown },
  toolNames: string[],
): string | undefined {
  const description = descriptionProblem(config.description);
  if (description) return description;
  if (config.agents === undefined) return undefined;
  if (!Array.isArray(config.agents)) return 'agents must be a list of defineAgent(...) results or agent names';
  const names: string[] = [];
  for (const reference of config.agents) {
    const name = subAgentName(reference);
    if (name === undefined) {
      return `agents must list defineAgent(...) results or agent names, not ${JSON.stringify(reference)}`;
    }
    if (!TOOL_NAME.test(name)) {
      return `sub-agent "${name}": the model calls a sub-agent as a tool, so its name must match ${TOOL_NAME}`;
    }
    if (typeof reference !== 'string' && !reference.description) {
      return `sub-agent "${name}" needs a description: the model decides when to call it by it`;
    }
    if (names.includes(name)) return `agents lists "${name}" twice`;
    if (toolNames.includes(name) || (config.memory === true && MEMORY_TOOL_NAMES.includes(name))) {
      return `sub-agent "${name}" has the name of a tool of the agent: the model could not tell them apart`;
    }
    names.push(name);
  }
  return undefined;
}

/** The agents `agent` lists as sub-agents, as definitions found in `registry` (or given inline). */
function subAgentsOf(agent: AgentDefinition, registry: AgentRegistry): AgentDefinition[] {
  return (agent.agents ?? []).map((reference) => {
    if (typeof reference !== 'string') return reference;
    const found = registry.get(reference);
    if (!found) {
      throw new DefinitionError(
        `agent "${agent.name}" lists sub-agent "${reference}", which no agent module registers; ` +
          `registered: ${registry.names().join(', ') || '(none)'}`,
      );
    }
    return found;
  });
}

/**
 * Throws, at worker start, on sub-agents the definitions alone could not check: a name no module
 * registers, a sub-agent without a description, and an agent that reaches itself through its
 * sub-agents (directly or round a cycle) without setting `limits.maxDepth` itself.
 */
export function checkSubAgentTree(registry: AgentRegistry): void {
  for (const { agent } of registry.entries()) {
    for (const sub of subAgentsOf(agent, registry)) {
      if (!sub.description) {
        throw new DefinitionError(
          `agent "${agent.name}" lists sub-agent "${sub.name}", which has no description: the model decides when to call it by it`,
        );
      }
    }
    const cycle = cycleThrough(agent, registry);
    if (cycle && cycle.some((name) => registry.get(name)?.limits?.maxDepth === undefined)) {
      throw new DefinitionError(
        `agent "${agent.name}" reaches itself through its sub-agents (${cycle.join(' → ')}): set limits.maxDepth ` +
          'on each agent of that cycle to bound how deep runs may nest',
      );
    }
  }
}

/** A path of sub-agents from `agent` back to itself, if there is one. */
function cycleThrough(agent: AgentDefinition, registry: AgentRegistry): string[] | undefined {
  const seen = new Set<string>();
  const walk = (current: AgentDefinition, path: string[]): string[] | undefined => {
    for (const sub of subAgentsOf(current, registry)) {
      if (sub.name === agent.name) return [...path, sub.name];
      if (seen.has(sub.name)) continue;
      seen.add(sub.name);
      const found = walk(sub, [...path, sub.name]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(agent, [agent.name]);
}

/** What a run of `agent` records about its sub-agents: names and descriptions; none without sub-agents. */
export function subAgentSpecs(agent: AgentDefinition, registry: AgentRegistry): { subAgents?: SubAgentSpec[] } {
  if (!agent.agents?.length) return {};
  return {
    subAgents: subAgentsOf(agent, registry).map((sub) => ({ name: sub.name, description: sub.description ?? '' })),
  };
}

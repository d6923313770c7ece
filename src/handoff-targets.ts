/**
 * Handoff targets: the agents an agent may hand a run to (`handoffs: [billing, 'refunds']`), checked
 * against the agents a worker registers when it starts, recorded in the spec the run resolves, and
 * offered to its model as `transfer_to_<agent>` tools (docs/handoffs.md). Workflow-safe: no I/O.
 */
import type { AgentDefinition } from './agent';
import type { ModelTool } from './activity-contract';
import { DefinitionError } from './errors';
import type { AgentRegistry } from './registry';
import { nearestName } from './suggest';
import type { AgentSpec, HandoffSpec } from './types';

const HANDOFF_TOOL_PREFIX = 'transfer_to_';

/** The longest tool name OpenAI-compatible servers take (`^[a-zA-Z0-9_-]{1,64}$`). */
export const MAX_TOOL_NAME_LENGTH = 64;

/** The tool that hands a run to `agent`: `transfer_to_<agent>`, any `.` of its name written `_`. */
export function handoffToolName(agent: string): string {
  return `${HANDOFF_TOOL_PREFIX}${agent.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
}

/** The name of a handoff target, given as a definition or as the name of a registered agent. */
export function targetName(target: AgentDefinition | string): string {
  return typeof target === 'string' ? target : target.name;
}

/** What a transfer tool takes: an optional reason, which the agent taking over reads. */
const HANDOFF_PARAMETERS = {
  type: 'object',
  properties: {
    reason: { type: 'string', description: 'Why you transfer the conversation, in a few words (optional).' },
  },
  additionalProperties: false,
};

/** The transfer tools a run of `spec` offers its model, after the agent's own tools. */
export function handoffModelTools(spec: Pick<AgentSpec, 'handoffs'>): ModelTool[] {
  return (spec.handoffs ?? []).map(({ agent, tool, description }) => ({
    name: tool,
    description: `Transfer the conversation to the agent "${agent}", which takes it over from here: ${description}`,
    parameters: HANDOFF_PARAMETERS,
  }));
}

/** What an agent's spec records of its handoffs, from the agents `registry` holds; none without handoffs. */
export function handoffSpecs(agent: AgentDefinition, registry: AgentRegistry): { handoffs?: HandoffSpec[] } {
  if (!agent.handoffs?.length) return {};
  return {
    handoffs: agent.handoffs.map((target) => {
      const name = targetName(target);
      return { agent: name, tool: handoffToolName(name), description: registry.get(name)?.description ?? '' };
    }),
  };
}

/**
 * Throws unless every handoff of every agent in `registry` names an agent the registry holds (the very
 * definition, when one was given) that has a description for the model to read: a run must never
 * find out mid-conversation that the agent it was to be handed to is missing.
 */
export function checkHandoffTargets(registry: AgentRegistry): void {
  const names = registry.names();
  for (const { agent, source } of registry.entries()) {
    for (const target of agent.handoffs ?? []) {
      const name = targetName(target);
      const registered = registry.get(name);
      const where = `${source}: agent "${agent.name}" hands off to "${name}"`;
      if (!registered) {
        const meant = nearestName(name, names);
        throw new DefinitionError(
          `${where}, which this worker does not register (${meant ? `did you mean "${meant}"? ` : ''}` +
            `its agents: ${names.join(', ')}): register "${name}" on the same workers`,
        );
      }
      if (typeof target !== 'string' && target !== registered) {
        throw new DefinitionError(
          `${where}, but the agent registered under that name is another definition: hand off to the one registered`,
        );
      }
      if (!registered.description?.trim()) {
        throw new DefinitionError(
          `${where}, which has no description: give "${name}" a description (what "${agent.name}"'s model ` +
            'reads to decide when to transfer)',
        );
      }
    }
  }
}

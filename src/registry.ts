/**
 * The agents a worker can run, by name. Built once at start-up; a duplicate stops the worker there.
 */
import type { AgentDefinition } from './agent';
import { DefinitionError } from './errors';

export class AgentRegistry {
  private readonly agents = new Map<string, { agent: AgentDefinition; source: string }>();

  /** Adds agents, naming `source` (a module path, or "built-in") in any error. */
  add(agents: readonly AgentDefinition[], source: string): this {
    for (const agent of agents) {
      if (agent?.kind !== 'agent') {
        throw new DefinitionError(`${source}: ${JSON.stringify(agent)} is not a defineAgent(...) result`);
      }
      const existing = this.agents.get(agent.name);
      if (existing) {
        throw new DefinitionError(
          `${source}: agent "${agent.name}" is already defined by ${existing.source}; agent names must be unique`,
        );
      }
      this.agents.set(agent.name, { agent, source });
    }
    return this;
  }

  get(name: string): AgentDefinition | undefined {
    return this.agents.get(name)?.agent;
  }

  names(): string[] {
    return [...this.agents.keys()].sort();
  }

  /** Every agent by name, with the source that added it ("built-in" or a module path). */
  entries(): { agent: AgentDefinition; source: string }[] {
    return this.names().map((name) => this.agents.get(name)!);
  }
}

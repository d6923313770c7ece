/**
 * The agents a worker can run, by name, and the MCP servers they use. Built once at start-up; a
 * duplicate stops the worker there.
 */
import type { AgentDefinition } from './agent';
import { DefinitionError } from './errors';
import { isMcpServerDefinition, type McpServerDefinition } from './mcp-server';

export class AgentRegistry {
  private readonly agents = new Map<string, { agent: AgentDefinition; source: string }>();
  private readonly mcpServers = new Map<string, { server: McpServerDefinition; source: string }>();

  /**
   * Adds agents and MCP servers (a plug-in module may export both), naming `source` (a module path,
   * or "built-in") in any error. An agent's own server definitions are added with it.
   */
  add(definitions: readonly (AgentDefinition | McpServerDefinition)[], source: string): this {
    return this.addFrom(definitions, source);
  }

  /**
   * `add`, for definitions of `module` listed by the agent `parent` as its sub-agents, if any: each is
   * labelled with the module and the one agent that lists it, whatever lists that agent.
   */
  private addFrom(
    definitions: readonly (AgentDefinition | McpServerDefinition)[],
    module: string,
    parent?: string,
  ): this {
    const source = parent === undefined ? module : `${module} (sub-agent of "${parent}")`;
    for (const definition of definitions) {
      if (isMcpServerDefinition(definition)) {
        this.addMcpServer(definition, source);
        continue;
      }
      const agent = definition;
      if (agent?.kind !== 'agent') {
        throw new DefinitionError(
          `${source}: ${JSON.stringify(agent)} is neither a defineAgent(...) nor a defineMcpServer(...) result`,
        );
      }
      const existing = this.agents.get(agent.name);
      // A sub-agent given inline is registered with the agent that lists it; listed again, it is the same one.
      if (existing?.agent === agent) continue;
      if (existing) {
        throw new DefinitionError(
          `${source}: agent "${agent.name}" is already defined by ${existing.source}; agent names must be unique`,
        );
      }
      this.agents.set(agent.name, { agent, source });
      for (const server of agent.mcpServers ?? []) if (isMcpServerDefinition(server)) this.addMcpServer(server, source);
      const inline = (agent.agents ?? []).filter((sub): sub is AgentDefinition => typeof sub !== 'string');
      if (inline.length) this.addFrom(inline, module, agent.name);
    }
    return this;
  }

  private addMcpServer(server: McpServerDefinition, source: string): void {
    const existing = this.mcpServers.get(server.name);
    // One definition listed by several agents is one server; two definitions of one name are a mistake.
    if (existing && existing.server !== server) {
      throw new DefinitionError(
        `${source}: MCP server "${server.name}" is already defined by ${existing.source}; server names must be unique`,
      );
    }
    this.mcpServers.set(server.name, { server, source });
  }

  get(name: string): AgentDefinition | undefined {
    return this.agents.get(name)?.agent;
  }

  mcpServer(name: string): McpServerDefinition | undefined {
    return this.mcpServers.get(name)?.server;
  }

  /** The MCP servers `agent` uses, its names resolved; throws naming a server nobody defined. */
  mcpServersOf(agent: AgentDefinition): McpServerDefinition[] {
    return (agent.mcpServers ?? []).map((entry) => {
      const server = typeof entry === 'string' ? this.mcpServer(entry) : entry;
      if (!server) {
        const known = [...this.mcpServers.keys()].sort().join(', ') || '(none)';
        throw new DefinitionError(
          `agent "${agent.name}" uses MCP server "${String(entry)}", which no module defines (known: ${known})`,
        );
      }
      return server;
    });
  }

  /** Every MCP server definition added, its agents' own included. */
  mcpServerDefinitions(): McpServerDefinition[] {
    return [...this.mcpServers.values()].map(({ server }) => server);
  }

  /** Throws if an agent names an MCP server that no definition added provides. */
  checkMcpServers(): this {
    for (const { agent } of this.agents.values()) this.mcpServersOf(agent);
    return this;
  }

  names(): string[] {
    return [...this.agents.keys()].sort();
  }

  /** Every agent by name, with the source that added it ("built-in" or a module path). */
  entries(): { agent: AgentDefinition; source: string }[] {
    return this.names().map((name) => this.agents.get(name)!);
  }
}

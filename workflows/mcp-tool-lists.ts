/**
 * The tools of a run's MCP servers, as part of the run: listed by an activity at the start of the
 * run (of each turn, in a session, recorded again only when a server's list changed), then held in
 * the run's spec, so replay and continue-as-new never depend on what a server says later. Only runs
 * whose recorded spec has `mcpServers` list anything: other histories replay unchanged.
 */
import { ApplicationFailure, log } from '@temporalio/workflow';
import type { McpToolList } from '../src/activity-contract';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import type { McpServerSpec } from '../src/mcp-server';
import { mcpToolSpecs } from '../src/mcp-tool-specs';
import type { AgentSpec, ToolSpec } from '../src/types';
import { listMcpTools } from './activities';
import { onRegisteringWorker } from './tool-worker-wait';

/** Fails the run if two of `tools` (or one and a name in `reserved`) have one name for the model. */
function ensureDistinctNames(tools: ToolSpec[], reserved: readonly string[]): void {
  const seen = new Map<string, ToolSpec>(reserved.map((name) => [name, { name } as ToolSpec]));
  for (const tool of tools) {
    const other = seen.get(tool.name);
    if (other) {
      const describe = (spec: ToolSpec) =>
        spec.mcp ? `tool "${spec.mcp.tool}" of MCP server "${spec.mcp.server}"` : `the agent's tool "${spec.name}"`;
      throw withoutStack(
        ApplicationFailure.create({
          type: ErrorType.McpToolNameClash,
          message: `${describe(tool)} and ${describe(other)} are both "${tool.name}" for the model: rename the server (or the agent's tool)`,
          nonRetryable: true,
        }),
      );
    }
    seen.set(tool.name, tool);
  }
}

/** One server's list: `unchanged`, a new one, or (the server unreachable after its retries) none. */
async function listServer(spec: AgentSpec, server: McpServerSpec): Promise<McpToolList | undefined> {
  try {
    return await onRegisteringWorker(spec, server.name, (eager) =>
      listMcpTools(server, { agent: spec.name, server: server.name, known: server.listed }, eager),
    );
  } catch (error) {
    // The run goes on without the server's tools (or with the list it has); a session's next turn asks again.
    log.warn(`could not list the tools of MCP server ${server.name}: the run goes on without its new list`, { error });
    return undefined;
  }
}

/**
 * Lists the tools of the spec's MCP servers and puts the lists that changed in `spec.tools` (and
 * their fingerprints in `spec.mcpServers`). `reserved`: names the run offers besides the spec's
 * tools (the memory tools). Returns whether the tools changed; fails the run on a name clash.
 */
export async function listRunMcpTools(spec: AgentSpec, reserved: readonly string[]): Promise<boolean> {
  const servers = spec.mcpServers ?? [];
  const lists = await Promise.all(servers.map((server) => listServer(spec, server)));
  const changed = lists.filter((list): list is Extract<McpToolList, { tools: unknown }> => !!list && 'tools' in list);
  if (!changed.length) return false;
  let tools = spec.tools;
  for (const list of changed) {
    const server = servers.find((candidate) => candidate.name === list.server)!;
    if (list.leftOut?.length) log.warn(`tools of MCP server ${server.name} left out`, { leftOut: list.leftOut });
    tools = [...tools.filter((tool) => tool.mcp?.server !== server.name), ...mcpToolSpecs(server, list.tools)];
    server.listed = list.fingerprint;
  }
  ensureDistinctNames(tools, reserved);
  spec.tools = tools;
  return true;
}

/**
 * The tools of a run's MCP servers, as part of the run: listed by an activity at the start of the
 * run (of each turn, in a session, recorded again only when a server's list changed), then held in
 * the run's spec, so replay and continue-as-new never depend on what a server says later. Only runs
 * whose recorded spec has `mcpServers` list anything: other histories replay unchanged.
 */
import { ApplicationFailure, log } from '@temporalio/workflow';
import type { McpListedTool, McpToolList } from '../src/activity-contract';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import type { McpServerSpec } from '../src/mcp-server';
import type { AgentSpec, ToolSpec } from '../src/types';
import { listMcpTools } from './activities';
import { onRegisteringWorker } from './tool-worker-wait';

/** The longest tool name the model takes (Chat Completions' function-name rule). */
const MODEL_TOOL_NAME_BYTES = 64;

/** The name the model sees for `tool` of `server`: `<server>_<tool>`, other characters as `_`, cut to 64. */
export function mcpModelToolName(server: string, tool: string): string {
  return `${server}_${tool}`.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, MODEL_TOOL_NAME_BYTES);
}

/** Whether `name` matches `pattern`, in which `*` stands for any run of characters and `?` for one. */
export function matchesToolPattern(name: string, pattern: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(name);
}

/** Whether calls to `tool` of `server` wait for a person: every tool's, or those the server's list names. */
function needsApproval(server: McpServerSpec, tool: string): boolean {
  const rule = server.requiresApproval;
  return Array.isArray(rule) ? rule.some((pattern) => matchesToolPattern(tool, pattern)) : rule;
}

/** The tools of `server`, as the run offers and calls them, under the server's recorded policy. */
export function mcpToolSpecs(server: McpServerSpec, tools: McpListedTool[]): ToolSpec[] {
  return tools.map((tool) => ({
    name: mcpModelToolName(server.name, tool.name),
    description: tool.description,
    parameters: tool.inputSchema,
    requiresApproval: needsApproval(server, tool.name),
    startToCloseTimeoutMs: server.startToCloseTimeoutMs,
    heartbeatTimeoutMs: server.heartbeatTimeoutMs,
    retry: server.retry,
    ...(server.taskQueue !== undefined && { taskQueue: server.taskQueue }),
    mcp: { server: server.name, tool: tool.name },
  }));
}

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
          message: `${describe(tool)} and ${describe(other)} are both "${tool.name}" for the model: rename one of the servers`,
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
    return await onRegisteringWorker(spec, server.name, () =>
      listMcpTools(server, { agent: spec.name, server: server.name, known: server.listed }),
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

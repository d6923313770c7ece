/**
 * An MCP server's listed tools as the run offers and calls them: named `<server>_<tool>` for the
 * model, under the server's recorded policy (its approval rule matched by name). Workflow-safe.
 */
import type { McpListedTool } from './activity-contract';
import type { McpServerSpec } from './mcp-server';
import type { ToolSpec } from './types';

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

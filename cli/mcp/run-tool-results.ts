/**
 * What the MCP tools answer: a run's result as a tool result (its answer as text, the rest as
 * structured content), and every failure as a tool error (`isError`) of one line, never a stack.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AgentRunResult } from '../../src/types';
import { formatAnswer } from '../format';

/**
 * A finished run's answer: the text the client shows (an output schema's object as JSON), and the
 * run's id, status, steps and usage (and that object) for scripts.
 */
export function runResultContent(runId: string, result: AgentRunResult): CallToolResult {
  const { output, ...rest } = result;
  return {
    content: [{ type: 'text', text: formatAnswer(output) }],
    structuredContent: { runId, ...rest, ...(typeof output !== 'string' && { output }) },
  };
}

/** Text for the client, with `details` beside it for scripts. */
export function textResult(text: string, details?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], ...(details && { structuredContent: details }) };
}

/** A run that ended without a result (failed, cancelled, terminated), told as a tool error. */
export function runFailedResult(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/**
 * Any failure of a tool, as a tool error: its message on one line (AgentClientError messages are
 * written for people already), never its stack.
 */
export function toolError(error: unknown): CallToolResult {
  const message = error instanceof Error ? error.message : String(error);
  return runFailedResult(message.replace(/\s*\n\s*/g, ' ').trim() || 'the call failed');
}

/** Runs a tool's body, turning whatever it throws into a tool error. */
export async function asToolResult(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return toolError(error);
  }
}

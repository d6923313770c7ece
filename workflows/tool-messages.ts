/**
 * What the model reads back for each tool call: the tool's result, or exactly what went wrong.
 */
import type { ChatMessage, ToolSpec } from '../src/types';

export type ParsedArguments = { ok: true; args: unknown } | { ok: false; error: string };

/** Parses the model's argument string; anything but a JSON object is explained back to the model. */
export function parseArguments(raw: string): ParsedArguments {
  let args: unknown;
  try {
    args = JSON.parse(raw.trim() === '' ? '{}' : raw);
  } catch (error) {
    return { ok: false, error: `Arguments are not valid JSON (${(error as Error).message}): ${raw.slice(0, 200)}` };
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { ok: false, error: 'Arguments must be a JSON object.' };
  }
  return { ok: true, args };
}

export function unknownToolError(name: string, tools: ToolSpec[]): string {
  return `Unknown tool "${name}". Available tools: ${tools.map((tool) => tool.name).join(', ') || '(none)'}.`;
}

export function toolMessage(toolCallId: string, content: string): ChatMessage {
  return { role: 'tool', tool_call_id: toolCallId, content };
}

export function toolErrorMessage(toolCallId: string, error: string): ChatMessage {
  return toolMessage(toolCallId, JSON.stringify({ error }));
}

/**
 * What the model reads back for each tool call: the tool's result, or exactly what went wrong, in
 * words. Raw JSON of the run's own making gets echoed by small models into output their server then
 * cannot parse; each kind opens with its prefix (src/tool-result-kinds.ts), so summaries can count them.
 */
import { Bounds } from '../src/defaults';
import { DENIAL_NOTE_LABEL, ToolResultPrefix } from '../src/tool-result-kinds';
import type { ChatMessage, ToolSpec } from '../src/types';
import { truncateUtf8, utf8Bytes } from '../src/validation';

export type ParsedArguments = { ok: true; args: unknown } | { ok: false; error: string };

/** Parses the model's argument string; anything but a JSON object of bounded size is explained back to the model. */
export function parseArguments(raw: string): ParsedArguments {
  const bytes = utf8Bytes(raw);
  if (bytes > Bounds.toolArgumentsBytes) {
    return { ok: false, error: `Arguments are too large: ${bytes} bytes, at most ${Bounds.toolArgumentsBytes}.` };
  }
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
  // The name is the model's: echo a bounded part of it.
  const shown = utf8Bytes(name) > 100 ? `${truncateUtf8(name, 100)}...` : name;
  return `Unknown tool "${shown}". Available tools: ${tools.map((tool) => tool.name).join(', ') || '(none)'}.`;
}

/** The result of a call past the cap on calls per answer (`maxToolCallsPerTurn`): not run. */
export function overCapNotRun(toolCallId: string, cap: number, made: number): ChatMessage {
  return notRunMessage(
    toolCallId,
    `one answer may make at most ${cap} tool calls and this one made ${made}. Make the calls you still need in your next answer.`,
  );
}

/** The result of a call the run did not run (`why`, a sentence without its `Not run: `). */
export function notRunMessage(toolCallId: string, why: string): ChatMessage {
  return toolMessage(toolCallId, `${ToolResultPrefix.notRun}${why}`);
}

/**
 * The result of a call a person denied, with their note: quoted as a JSON string, so that however
 * it is written it stays one quoted line the model reads as theirs.
 */
export function deniedMessage(toolCallId: string, tool: string, note: string | undefined): ChatMessage {
  const said = note === undefined ? '' : ` ${DENIAL_NOTE_LABEL}${JSON.stringify(note)}`;
  return toolMessage(
    toolCallId,
    `${ToolResultPrefix.denied}a person did not approve this call to ${tool}, so it did not run.${said}`,
  );
}

/**
 * The result of a call a person approved with a note or edited arguments: in words, what they changed
 * and said (the note quoted as a JSON string, as a denial quotes it), then the tool's result.
 */
export function approvedResultMessage(
  toolCallId: string,
  content: string,
  { note, args }: { note?: string; args?: Record<string, unknown> },
): ChatMessage {
  const edited = args === undefined ? '' : ` with edited arguments: it ran with ${JSON.stringify(args)}, not yours`;
  const said = note === undefined ? '' : ` Their note: ${JSON.stringify(note)}`;
  return toolMessage(toolCallId, `A person approved this call${edited}.${said}\nResult: ${content}`);
}

/** The result of a call whose activity failed for good (its retries spent), saying why. */
export function toolFailedMessage(toolCallId: string, tool: string, reason: string): ChatMessage {
  return toolErrorMessage(toolCallId, `Tool ${tool} failed: ${reason}`);
}

/** The result of a call whose arguments did not fit the tool's schema, with the problems. */
export function invalidArgumentsMessage(toolCallId: string, tool: string, problems: string): ChatMessage {
  return toolErrorMessage(toolCallId, `Invalid arguments for tool "${tool}": ${problems}`);
}

export function toolMessage(toolCallId: string, content: string): ChatMessage {
  return { role: 'tool', tool_call_id: toolCallId, content };
}

/** The result of a call that went wrong: the tool's error, or why the call could not run, after `Error: `. */
export function toolErrorMessage(toolCallId: string, error: string): ChatMessage {
  return toolMessage(toolCallId, `${ToolResultPrefix.error}${error}`);
}

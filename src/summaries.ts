/**
 * Summaries that replace the oldest part of a conversation when it nears the model's context window:
 * the request that asks a model for one, and the message that stands in for what it summarises.
 * Workflow-safe: the workflow makes the summary message, the model activity the request.
 */
import type { ChatMessage } from './types';
import { truncateUtf8, utf8Bytes } from './validation';

/** What the summarising model is told to do. */
export const SUMMARY_INSTRUCTIONS =
  'You compact the conversation of an AI assistant that uses tools, so that it can go on with less context. ' +
  'Summarise the conversation below. Keep every fact the user gave (names, numbers, identifiers, dates, ' +
  'preferences), every decision and commitment, what each tool call found, and what is still open. ' +
  'Drop small talk and repetition. Write only the summary, as short notes.';

/** The first line of the message that replaces a summarised stretch, so the model knows what it reads. */
export const SUMMARY_HEADING = '[Summary of the earlier conversation, which was shortened to fit the context window]';

/** The system message that stands in for the messages a summary replaced. */
export function summaryMessage(summary: string): ChatMessage {
  return { role: 'system', content: `${SUMMARY_HEADING}\n${summary}` };
}

/** One message as the summariser reads it: who said it, what, and which tools it called with what. */
function renderMessage(message: ChatMessage): string {
  switch (message.role) {
    case 'system':
      return message.content.startsWith(SUMMARY_HEADING)
        ? `Summary of what came before:\n${message.content.slice(SUMMARY_HEADING.length).trim()}`
        : `System: ${message.content}`;
    case 'user':
      return `User: ${message.content}`;
    case 'assistant': {
      const calls = (message.tool_calls ?? []).map(
        (call) => `Assistant called ${call.function.name} (${call.id}) with ${call.function.arguments}`,
      );
      return [...(message.content ? [`Assistant: ${message.content}`] : []), ...calls].join('\n');
    }
    case 'tool':
      return `Tool result (${message.tool_call_id}): ${message.content}`;
  }
}

const CUT = ' [...]';
const SEPARATOR = '\n\n';
/** No message is cut shorter than this; with more messages than fit so, the oldest go first. */
const SMALLEST_SHARE = 64;

/**
 * The messages to summarise as one text of at most `maxBytes` (UTF-8): each message gets an equal share
 * and is cut to it (marked), so one huge tool result cannot push out everything else. Short messages
 * leave their unused share to the rest.
 */
export function renderForSummary(messages: readonly ChatMessage[], maxBytes: number): string {
  const texts = messages.map(renderMessage);
  const overhead = utf8Bytes(CUT) + utf8Bytes(SEPARATOR);
  // The newest messages matter most: when not even the smallest share fits for all, the oldest are dropped.
  const fitting = Math.max(1, Math.floor(maxBytes / (SMALLEST_SHARE + overhead)));
  const kept = texts.slice(-fitting);
  let budget = maxBytes - kept.length * overhead;
  const parts: string[] = new Array(kept.length);
  // Shortest first: what a short message does not use goes to the longer ones after it.
  const order = kept.map((_, index) => index).sort((a, b) => utf8Bytes(kept[a]) - utf8Bytes(kept[b]));
  order.forEach((index, position) => {
    const share = Math.max(0, Math.floor(budget / (order.length - position)));
    const text = kept[index];
    parts[index] = utf8Bytes(text) > share ? `${truncateUtf8(text, share)}${CUT}` : text;
    budget -= Math.min(utf8Bytes(text), share);
  });
  return truncateUtf8(parts.join(SEPARATOR), maxBytes);
}

/** The Chat Completions messages that ask for a summary of `messages`. */
export function summaryRequest(messages: readonly ChatMessage[], maxBytes: number): ChatMessage[] {
  return [
    { role: 'system', content: SUMMARY_INSTRUCTIONS },
    { role: 'user', content: renderForSummary(messages, maxBytes) },
  ];
}

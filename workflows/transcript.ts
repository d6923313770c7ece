/**
 * Keeps the transcript small enough to travel as one activity input: Temporal rejects payloads over
 * 2 MB, and every model call carries the whole conversation.
 */
import type { ChatMessage } from '../src/types';

export const OMITTED_RESULT = JSON.stringify({
  omitted: 'This earlier tool result was removed to keep the conversation small.',
});

const size = (messages: ChatMessage[]): number => JSON.stringify(messages).length;

/**
 * Replaces the content of the oldest tool results with a short note until the serialized transcript
 * fits in `maxChars`; the newest result is always kept. Returns how many results were replaced.
 */
export function compactTranscript(messages: ChatMessage[], maxChars: number): number {
  let excess = size(messages) - maxChars;
  let replaced = 0;
  const toolIndexes = messages.flatMap((message, index) => (message.role === 'tool' ? [index] : [])).slice(0, -1);
  for (const index of toolIndexes) {
    if (excess <= 0) break;
    const message = messages[index] as Extract<ChatMessage, { role: 'tool' }>;
    if (message.content === OMITTED_RESULT) continue;
    excess -= JSON.stringify(message.content).length - JSON.stringify(OMITTED_RESULT).length;
    messages[index] = { ...message, content: OMITTED_RESULT };
    replaced += 1;
  }
  return replaced;
}

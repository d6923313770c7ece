/**
 * Keeps the transcript small enough to travel as one activity input: Temporal rejects payloads over
 * 2 MB, and every model call carries the whole conversation. Sizes are UTF-8 bytes of the JSON.
 */
import type { ChatMessage } from '../src/types';
import { serializedBytes } from '../src/validation';

export const OMITTED_RESULT = JSON.stringify({
  omitted: 'This earlier tool result was removed to keep the conversation small.',
});
export const OMITTED_TURN = '[This earlier message was removed to keep the conversation small.]';
const OMITTED_ARGUMENTS = '{"omitted":true}';

/**
 * Serialized sizes of a transcript's messages, each measured once: a message object is never changed
 * in place (compaction and summaries replace it), so the run need not serialize its whole transcript,
 * which grows with every step, each of the times a step asks its size.
 */
export class MessageSizes {
  private readonly sizes = new WeakMap<ChatMessage, number>();

  of(message: ChatMessage): number {
    let size = this.sizes.get(message);
    if (size === undefined) this.sizes.set(message, (size = serializedBytes(message)));
    return size;
  }

  /** `serializedBytes(messages)`, from the messages' own: the brackets, a comma between two, each message. */
  total(messages: readonly ChatMessage[]): number {
    return messages.reduce((bytes, message) => bytes + this.of(message), 1 + Math.max(1, messages.length));
  }
}

/** The message with its text (and a past call's arguments) replaced by notes; undefined if nothing would shrink. */
function omitted(message: ChatMessage): ChatMessage | undefined {
  switch (message.role) {
    case 'tool':
      return message.content === OMITTED_RESULT ? undefined : { ...message, content: OMITTED_RESULT };
    case 'user':
      return message.content === OMITTED_TURN ? undefined : { ...message, content: OMITTED_TURN };
    case 'assistant': {
      const shrunk: ChatMessage = {
        ...message,
        content: message.content === null ? null : OMITTED_TURN,
        ...(message.tool_calls && {
          tool_calls: message.tool_calls.map((call) => ({
            ...call,
            function: { ...call.function, arguments: OMITTED_ARGUMENTS },
          })),
        }),
      };
      return serializedBytes(shrunk) < serializedBytes(message) ? shrunk : undefined;
    }
    case 'system':
      return undefined;
  }
}

/**
 * Replaces old messages with short notes, oldest first, until the serialized transcript fits in
 * `maxBytes`: first tool results (the newest is always kept), then user and assistant turns before
 * the current one (the system prompt and the turn being answered are always kept; a tool call keeps
 * its id, so it is never separated from its result). Returns how many messages were replaced and the
 * transcript's serialized size after (measured once here, so callers need not serialize it again);
 * it may still be over `maxBytes` when what must be kept is larger.
 */
export function compactTranscript(
  messages: ChatMessage[],
  maxBytes: number,
  sizes = new MessageSizes(),
): { replaced: number; bytes: number } {
  let excess = sizes.total(messages) - maxBytes;
  let replaced = 0;
  const replace = (indexes: number[]) => {
    for (const index of indexes) {
      if (excess <= 0) return;
      const shrunk = omitted(messages[index]);
      if (!shrunk) continue;
      excess -= sizes.of(messages[index]) - sizes.of(shrunk);
      messages[index] = shrunk;
      replaced += 1;
    }
  };
  const indexesOf = (wanted: (message: ChatMessage, index: number) => boolean) =>
    messages.flatMap((message, index) => (wanted(message, index) ? [index] : []));
  replace(indexesOf((message) => message.role === 'tool').slice(0, -1));
  const currentTurn = messages.map((message) => message.role).lastIndexOf('user');
  replace(
    indexesOf((message, index) => index < currentTurn && (message.role === 'user' || message.role === 'assistant')),
  );
  return { replaced, bytes: maxBytes + excess };
}

/**
 * A transcript as a model endpoint gets it. An assistant message that only calls tools carries `""`,
 * not `null`: llama-cpp-python's server answers 500 to null, and every server measured accepts "".
 * The run's transcript keeps its null (history, queries, `transcript`); requests and the
 * `export --format openai` request body, which replays the run against a server, carry "".
 * Workflow-safe.
 */
import type { ChatMessage } from './types';

export function wireMessages(messages: readonly ChatMessage[]): ChatMessage[] {
  return messages.map((message) =>
    message.role === 'assistant' && message.content === null ? { ...message, content: '' } : message,
  );
}

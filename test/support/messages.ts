/**
 * Transcript messages for unit tests, in the Chat Completions shape the run keeps them in.
 */
import type { ChatMessage } from '../../src/types';

export const system = (content: string): ChatMessage => ({ role: 'system', content });
export const user = (content: string): ChatMessage => ({ role: 'user', content });
export const answer = (content: string): ChatMessage => ({ role: 'assistant', content });
/** An answer calling the tool `lookup` once per id. */
export const calls = (...ids: string[]): ChatMessage => ({
  role: 'assistant',
  content: null,
  tool_calls: ids.map((id) => ({ id, type: 'function', function: { name: 'lookup', arguments: `{"id":"${id}"}` } })),
});
export const result = (id: string, content = `result of ${id}`): ChatMessage => ({
  role: 'tool',
  tool_call_id: id,
  content,
});

/** What crosses a payload (and what a history holds): the same JSON, in new objects. */
export const recorded = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * The scripted model tests point a worker's `OPENAI_BASE_URL` at: the runtime's scripted Chat
 * Completions server (runtime/scripted-chat-completions.ts, which the offline demo model also runs
 * on), the helpers for writing its scripts, and its compatibility profiles (real model servers' ways).
 */
import { turnOf, type ModelRequest, type Reply, type Script } from '../runtime/scripted-chat-completions';
import { SUMMARY_INSTRUCTIONS } from '../src/summaries';
import type { ChatMessage } from '../src/types';

export {
  reply,
  startScriptedModel,
  turnOf,
  type ModelRequest,
  type Reply,
  type Script,
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedToolCall,
  type ScriptedUsage,
  type Streaming,
} from '../runtime/scripted-chat-completions';
export type { ScriptedRateLimit } from '../runtime/scripted-rate-limits';
export { serverProfiles, type ServerProfile } from '../runtime/scripted-server-profiles';

/**
 * Whether the request asks for a summary of the conversation (the run nears its model's context
 * window) rather than for the next step: scripts that count turns should answer these apart.
 */
export function isSummaryRequest(request: ModelRequest): boolean {
  const first = request.messages[0];
  return first?.role === 'system' && first.content === SUMMARY_INSTRUCTIONS;
}

/** The last message of the request that has the given role. */
export function lastOf<R extends ChatMessage['role']>(
  request: ModelRequest,
  role: R,
): Extract<ChatMessage, { role: R }> | undefined {
  return [...request.messages].reverse().find((message) => message.role === role) as
    Extract<ChatMessage, { role: R }> | undefined;
}

/** A script that answers the n-th model turn of a conversation with `replies[n]` (the last one repeats). */
export function byTurn(replies: Reply[]): Script {
  return (request) => replies[Math.min(turnOf(request), replies.length - 1)];
}

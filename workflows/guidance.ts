/**
 * What the run says in its own words: to the model when it must change course (answer now, stop
 * repeating, say something), and to the user when a run ends without the model's answer.
 */
import type { ChatMessage, Limits, LimitName } from '../src/types';
import type { SpentLimit } from './budget';

/** Asked of the model on the wrap-up call, the last one a budget allows. */
export function wrapUpInstruction(limit: LimitName): ChatMessage {
  return {
    role: 'user',
    content:
      `[The run's ${limit} budget is nearly spent, so this is your last reply and no tool will run.] ` +
      'Answer the request now from what you have found so far. Say plainly what you did, what you found, ' +
      'and what you could not finish.',
  };
}

/** Told to the model once when it repeats itself; if it goes on, the run ends `stuck`. */
export function repetitionWarning(description: string): ChatMessage {
  return {
    role: 'user',
    content:
      `[You have made ${description}. Doing it again will not change the result.] ` +
      'Answer from what you have, or try a different approach.',
  };
}

/** The tool message for a repeated call the run did not run again. */
export const REPEATED_CALL_NOT_RUN = 'Not run: this call repeats earlier ones with the same arguments.';

/** Sent back after an answer with neither text nor a tool call. */
export const EMPTY_ANSWER_NUDGE: ChatMessage = {
  role: 'user',
  content: 'Your last reply was empty. Answer the user, or call a tool.',
};

/** The tool calls made in `messages`, counted by tool: "lookup_order ×2, issue_refund ×1". */
function toolsCalled(messages: ChatMessage[]): string {
  const counts = new Map<string, number>();
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    for (const call of message.tool_calls ?? []) {
      counts.set(call.function.name, (counts.get(call.function.name) ?? 0) + 1);
    }
  }
  return [...counts].map(([name, count]) => `${name} ×${count}`).join(', ');
}

/** The output of a turn a budget ended with no room left for the model's wrap-up. */
export function unfinishedOutput({ limit, lifetime }: SpentLimit, limits: Limits, turn: ChatMessage[]): string {
  const calls = toolsCalled(turn);
  const value = lifetime ? limits.lifetime?.[limit] : limits[limit];
  return (
    `The ${lifetime ? 'lifetime ' : ''}${limit} budget (${value}) ran out before an answer was written. ` +
    `Done: ${calls ? `tool calls ${calls}` : 'no tool calls'}. Not done: the answer to the request.`
  );
}

/** The output of a run that ended stuck. */
export function stuckOutput(reason: string, turn: ChatMessage[]): string {
  const calls = toolsCalled(turn);
  return (
    `Stopped without an answer: the model kept making ${reason}, even after being told. ` +
    `Done: ${calls ? `tool calls ${calls}` : 'no tool calls'}.`
  );
}

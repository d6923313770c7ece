/**
 * An agent's `modelSettings`: Chat Completions request parameters sent with each of its model calls
 * (reasoning effort, sampling, an output cap, a seed). Checked against this schema when the agent is
 * defined and again when a run's spec is read, since the spec is recorded in history and travels.
 */
import { z } from 'zod';
import { boundedString } from './validation';

/** The largest output cap an agent may ask for: beyond any model's, small enough to stay a plain number. */
export const MAX_COMPLETION_TOKENS_BOUND = 1_000_000;

/**
 * The parameters an agent may set, by their wire names; unknown ones are refused (a typo must not be
 * sent and ignored). Values are bounded as the Chat Completions API documents them. Built on use: a
 * workflow bundle imports this module, and the SDK evaluates it again for every run it starts.
 */
export function modelSettingsSchema() {
  /** Up to 4 stop sequences, as the Chat Completions API takes them. */
  const stopSequence = boundedString(256).min(1);
  return z
    .object({
      /** For reasoning models: how much they think before answering. */
      reasoning_effort: z.enum(['minimal', 'low', 'medium', 'high']),
      temperature: z.number().min(0).max(2),
      top_p: z.number().min(0).max(1),
      /** The most output tokens (reasoning included) an answer may take; a budget's wrap-up cap may lower it. */
      max_completion_tokens: z.number().int().positive().max(MAX_COMPLETION_TOKENS_BOUND),
      seed: z.number().int().min(Number.MIN_SAFE_INTEGER).max(Number.MAX_SAFE_INTEGER),
      frequency_penalty: z.number().min(-2).max(2),
      presence_penalty: z.number().min(-2).max(2),
      stop: z.union([stopSequence, z.array(stopSequence).min(1).max(4)]),
      parallel_tool_calls: z.boolean(),
      service_tier: z.enum(['auto', 'default', 'flex', 'priority']),
    })
    .partial()
    .strict();
}

export type ModelSettings = z.infer<ReturnType<typeof modelSettingsSchema>>;

/**
 * The model-call activity: one Chat Completions request through the `openai` client, with the SDK's
 * own retries off so that Temporal alone retries, visibly in the run's history.
 */
import { Context } from '@temporalio/activity';
import type OpenAI from 'openai';
import type { PriceTable } from '../src/pricing';
import type { ChatMessage } from '../src/types';
import { startHeartbeats } from './heartbeat';
import { classifyModelError } from './model-errors';
import { parseCompletion, type ModelCallResult } from './model-response';

export type { ModelCallResult } from './model-response';

/** A tool as offered to the model. */
export interface ModelTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

export interface ModelCallInput {
  agent: string;
  model: string;
  step: number;
  messages: ChatMessage[];
  tools: ModelTool[];
  requestTimeoutMs: number;
  /** `none` for a run's wrap-up call: the model answers from what it has, calling no tool. */
  toolChoice?: 'none';
  /** Caps the answer (`max_completion_tokens`) so a wrap-up call stays inside a token or cost budget. */
  maxOutputTokens?: number;
}

export interface ModelActivityDeps {
  openai: OpenAI;
  prices: PriceTable;
}

/** Builds the `callModel` activity around one shared client. */
export function createModelActivities({ openai, prices }: ModelActivityDeps) {
  return {
    async callModel(input: ModelCallInput): Promise<ModelCallResult> {
      const context = Context.current();
      // Heartbeats let a dead worker's call be retried quickly and let cancellation reach the request.
      const heartbeats = startHeartbeats(context);
      let completion: unknown;
      try {
        completion = await openai.chat.completions.create(
          {
            model: input.model,
            messages: input.messages,
            ...(input.tools.length && {
              tools: input.tools.map((tool) => ({ type: 'function' as const, function: tool })),
              ...(input.toolChoice && { tool_choice: input.toolChoice }),
            }),
            ...(input.maxOutputTokens && { max_completion_tokens: input.maxOutputTokens }),
          },
          { timeout: input.requestTimeoutMs, maxRetries: 0, signal: context.cancellationSignal },
        );
      } catch (error) {
        // The client's own error, with its stack and causes, for whoever runs the worker at DEBUG; the
        // failure (in history, and the worker's one line per attempt) carries a message only.
        context.log.debug('model call error', { error });
        throw classifyModelError(error, { endpoint: openai.baseURL, requestTimeoutMs: input.requestTimeoutMs });
      } finally {
        heartbeats.stop();
      }
      // Whatever the endpoint answered is checked here, so nothing off-spec reaches the run.
      return parseCompletion(completion, input.model, prices);
    },
  };
}

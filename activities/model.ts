/**
 * The model-call activity: one Chat Completions request through the `openai` client, with the SDK's
 * own retries off so that Temporal alone retries, visibly in the run's history.
 */
import { Context } from '@temporalio/activity';
import type OpenAI from 'openai';
import { costOf, type PriceTable } from '../src/pricing';
import type { ChatMessage, ToolCall } from '../src/types';
import { classifyModelError } from './model-errors';

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

export interface ModelCallResult {
  /** The model that answered (a fallback model when the first one failed). */
  model: string;
  message: Extract<ChatMessage, { role: 'assistant' }>;
  finishReason: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  costKnown: boolean;
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
      const heartbeatEvery = Math.max(250, (context.info.heartbeatTimeoutMs ?? 30_000) / 3);
      const heartbeats = setInterval(() => context.heartbeat(), heartbeatEvery);
      try {
        const completion = await openai.chat.completions.create(
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
        const choice = completion.choices?.[0];
        const inputTokens = completion.usage?.prompt_tokens ?? 0;
        const outputTokens = completion.usage?.completion_tokens ?? 0;
        const cost = costOf(prices, input.model, inputTokens, outputTokens);
        const toolCalls = (choice?.message?.tool_calls ?? []).filter(
          (call): call is ToolCall => call.type === 'function',
        );
        return {
          model: input.model,
          message: {
            role: 'assistant',
            content: choice?.message?.content ?? null,
            ...(toolCalls.length && {
              tool_calls: toolCalls.map(({ id, function: fn }) => ({
                id,
                type: 'function' as const,
                function: { name: fn.name, arguments: fn.arguments },
              })),
            }),
          },
          finishReason: choice?.finish_reason ?? null,
          inputTokens,
          outputTokens,
          costUsd: cost.costUsd,
          costKnown: cost.known,
        };
      } catch (error) {
        throw classifyModelError(error);
      } finally {
        clearInterval(heartbeats);
      }
    },
  };
}

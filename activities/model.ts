/**
 * The model-call activity: one Chat Completions request through the `openai` client, with the SDK's
 * own retries off so that Temporal alone retries, visibly in the run's history.
 */
import { Context } from '@temporalio/activity';
import type OpenAI from 'openai';
import type { PriceTable } from '../src/pricing';
import { summaryRequest } from '../src/summaries';
import type { TranscriptCarrier } from '../src/transcript-replay';
import type { ChatMessage } from '../src/types';
import { startHeartbeats } from './heartbeat';
import { withRecordedInput } from './local-record';
import { recordModelCall } from './metrics';
import { classifyModelError } from './model-errors';
import { parseCompletion, type ModelCallResult } from './model-response';
import type { TranscriptStore } from './transcripts';

export type { ModelCallResult } from './model-response';

/** A tool as offered to the model. */
export interface ModelTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One model request; its transcript comes whole (`messages`) or by reference (`transcript`). */
export interface ModelCallInput extends TranscriptCarrier {
  agent: string;
  model: string;
  step: number;
  tools: ModelTool[];
  requestTimeoutMs: number;
  /** `none` for a run's wrap-up call: the model answers from what it has, calling no tool. */
  toolChoice?: 'none';
  /** Caps the answer (`max_completion_tokens`) so a wrap-up call stays inside a token or cost budget. */
  maxOutputTokens?: number;
}

/**
 * A request for a summary of the transcript's messages `[from, to)`, which the run then replaces with
 * it; at most `maxInputBytes` of them are sent (each message cut to its share).
 */
export interface SummaryCallInput extends Omit<ModelCallInput, 'tools' | 'toolChoice'> {
  from: number;
  to: number;
  maxInputBytes: number;
}

export interface ModelActivityDeps {
  openai: OpenAI;
  prices: PriceTable;
  transcripts: TranscriptStore;
}

/** Builds the model activities around one shared client. */
export function createModelActivities({ openai, prices, transcripts }: ModelActivityDeps) {
  /**
   * One Chat Completions request of the run's model call `input`, over the messages `build` makes from
   * the call's transcript; its answer checked, its failure classified.
   */
  async function complete(
    input: ModelCallInput,
    build: (transcript: ChatMessage[]) => ChatMessage[],
  ): Promise<ModelCallResult> {
    const startedAtMs = Date.now();
    const context = Context.current();
    // Heartbeats let a dead worker's call be retried quickly and let cancellation reach the request.
    const heartbeats = startHeartbeats(context);
    let completion: unknown;
    try {
      const messages = build(await transcripts.resolve(input, context.info.workflowExecution));
      completion = await openai.chat.completions
        .create(
          {
            model: input.model,
            messages,
            ...(input.tools.length && {
              tools: input.tools.map((tool) => ({ type: 'function' as const, function: tool })),
              ...(input.toolChoice && { tool_choice: input.toolChoice }),
            }),
            ...(input.maxOutputTokens && { max_completion_tokens: input.maxOutputTokens }),
          },
          { timeout: input.requestTimeoutMs, maxRetries: 0, signal: context.cancellationSignal },
        )
        .catch((error: unknown) => {
          // The client's own error, with its stack and causes, for whoever runs the worker at DEBUG; the
          // failure (in history, and the worker's one line per attempt) carries a message only.
          context.log.debug('model call error', { error });
          throw classifyModelError(error, { endpoint: openai.baseURL, requestTimeoutMs: input.requestTimeoutMs });
        });
    } finally {
      heartbeats.stop();
    }
    // Whatever the endpoint answered is checked here, so nothing off-spec reaches the run.
    const result = parseCompletion(completion, input.model, prices);
    recordModelCall(input.agent, result);
    const { messages: _whole, ...recorded } = input;
    return withRecordedInput(result, recorded, startedAtMs);
  }

  return {
    /** One step of a run: the transcript to the model, its answer back. */
    callModel(input: ModelCallInput): Promise<ModelCallResult> {
      return complete(input, (transcript) => transcript);
    },

    /** A summary of the oldest part of the transcript, asked of the run's model (no tools). */
    summarizeConversation({ from, to, maxInputBytes, ...input }: SummaryCallInput): Promise<ModelCallResult> {
      return complete({ ...input, tools: [] }, (transcript) =>
        summaryRequest(transcript.slice(from, to), maxInputBytes),
      );
    },
  };
}

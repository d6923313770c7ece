/**
 * The model-call activity: one Chat Completions request through the `openai` client, with the SDK's
 * own retries off so that Temporal alone retries, visibly in the run's history.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { liveAnswer } from '../src/live-answer';
import { summaryRequest } from '../src/summaries';
import type { ChatMessage } from '../src/types';
import { serializedBytes, utf8Bytes } from '../src/validation';
import { wireMessages } from '../src/wire-messages';
import { startHeartbeats } from './heartbeat';
import { withRecordedInput } from './local-record';
import { knownModels, recordModelCall, type ModelKnowledge } from './metrics';
import { classifyModelError, displayEndpoint } from './model-errors';
import { cutAtCap, OutputCapChoice, overran, overrunBytes, type CapParameters } from './output-cap';
import { SilentUsageNotice } from './usage-estimate';
import { parseCompletion } from './model-response';
import { readCompletion, StreamingChoice, type StreamedAnswer } from './model-stream';
import type { TranscriptStore } from './transcript-store';
import type { ModelCallInput, ModelCallResult, SummaryCallInput } from '../src/activity-contract';

/** `prices` prices each call; with the rest of `ModelKnowledge` it says which models the metrics name. */
export interface ModelActivityDeps extends ModelKnowledge {
  openai: OpenAI;
  transcripts: TranscriptStore;
  /** Whether model calls ask for a streamed answer (`MODEL_STREAMING`; on unless set false). */
  streamModelCalls?: boolean;
  /** The field each model's output cap goes in (`MODEL_OUTPUT_CAP_PARAMETERS`). */
  outputCaps?: CapParameters;
  /** Whether `OPENAI_API_KEY` is set: a failure at OpenAI's endpoint without one says how to go on. */
  apiKeySet?: boolean;
}

/** Builds the model activities around one shared client. */
export function createModelActivities(deps: ModelActivityDeps) {
  const { openai, prices, transcripts, streamModelCalls = true } = deps;
  const streaming = new StreamingChoice(streamModelCalls);
  const caps = new OutputCapChoice(deps.outputCaps);
  const silentUsage = new SilentUsageNotice();
  const endpoint = displayEndpoint(openai.baseURL);
  // A run's input names any model it likes; the metrics name only these (activities/metrics.ts).
  const metricModels = knownModels(deps);
  /**
   * One Chat Completions request of the run's model call `input`, over the messages `build` makes from
   * the call's transcript; its answer checked, its failure classified.
   */
  async function complete(
    input: ModelCallInput,
    build: (transcript: ChatMessage[]) => ChatMessage[],
    live: boolean,
  ): Promise<ModelCallResult> {
    const startedAtMs = Date.now();
    const context = Context.current();
    // Heartbeats let a dead worker's call be retried quickly and let cancellation reach the request;
    // a step's call also carries its answer so far, for clients to show as it grows.
    const heartbeats = startHeartbeats(context);
    // The details are made only when a beat sends them: per chunk, a stream only counts.
    const publish = (answer: StreamedAnswer) =>
      heartbeats.report(() => liveAnswer(input.step, context.info.attempt, answer.liveText(), answer.textBytes));
    let completion: unknown;
    let requestBytes: number;
    try {
      const messages = wireMessages(build(await transcripts.resolve(input, context.info.workflowExecution)));
      requestBytes = serializedBytes(messages) + (input.tools.length ? serializedBytes(input.tools) : 0);
      completion = await request(input, messages, context, live ? publish : undefined).catch((error: unknown) => {
        // The client's own error, with its stack and causes, for whoever runs the worker at DEBUG; the
        // failure (in history, and the worker's one line per attempt) carries a message only.
        context.log.debug('model call error', { error });
        throw error instanceof ApplicationFailure
          ? error
          : classifyModelError(error, {
              endpoint: openai.baseURL,
              requestTimeoutMs: input.requestTimeoutMs,
              apiKeySet: deps.apiKeySet,
            });
      });
    } finally {
      heartbeats.stop();
    }
    // Whatever the endpoint answered is checked here, so nothing off-spec reaches the run.
    const parsed = parseCompletion(completion, input.model, prices, requestBytes);
    const result = withinCap(input, parsed, completion, context);
    if (result.usageEstimated) silentUsage.noticed(input.model, endpoint, (message) => context.log.warn(message));
    recordModelCall(input.agent, result, metricModels);
    const { messages: _whole, ...recorded } = input;
    return withRecordedInput(result, recorded, startedAtMs);
  }

  /**
   * `result` held to the call's output cap: an answer that overran it (the endpoint ignored the field
   * it was sent) is cut at the cap, finishes for `length`, and the model's cap goes in both fields
   * from now on (said once in the log).
   */
  function withinCap(
    input: ModelCallInput,
    result: ModelCallResult,
    completion: unknown,
    context: Context,
  ): ModelCallResult {
    const cap = input.maxOutputTokens;
    const text = result.message.content;
    if (cap === undefined) return result;
    const stopped = (completion as { overranCap?: unknown } | null)?.overranCap === true;
    const reported = result.usageEstimated ? undefined : result.outputTokens;
    if (!stopped && !overran(cap, utf8Bytes(text ?? ''), reported)) return result;
    const ignored = caps.learn(input.model);
    if (ignored) {
      context.log.warn(
        `model ${input.model} at ${endpoint} answered past the ${cap}-token cap sent as ${ignored}: ` +
          'its answers are cut at the cap, and its cap goes in both max_completion_tokens and max_tokens from now on ' +
          '(MODEL_OUTPUT_CAP_PARAMETERS)',
      );
    }
    if (text === null) return result;
    return {
      ...result,
      message: { ...result.message, content: cutAtCap(text, cap, reported) },
      finishReason: 'length',
    };
  }

  /**
   * The endpoint's answer to one request: streamed (the text reported to `onText` as it grows) unless
   * this worker streams no model calls or the endpoint refused to stream. The request timeout bounds
   * the whole answer, not only its first byte, so an answer that stalls mid-stream times out too.
   */
  async function request(
    input: ModelCallInput,
    messages: ChatMessage[],
    context: Context,
    onText: ((answer: StreamedAnswer) => void) | undefined,
  ): Promise<unknown> {
    const body = {
      model: input.model,
      messages,
      ...(input.tools.length && {
        tools: input.tools.map((tool) => ({ type: 'function' as const, function: tool })),
        ...(input.toolChoice && { tool_choice: input.toolChoice }),
      }),
      ...(input.maxOutputTokens && caps.fields(input.model, input.maxOutputTokens)),
    };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new OpenAI.APIConnectionTimeoutError()), input.requestTimeoutMs);
    const controller = new AbortController();
    const abort = (signal: AbortSignal) => () => controller.abort(signal.reason);
    deadline.signal.addEventListener('abort', abort(deadline.signal), { once: true });
    context.cancellationSignal.addEventListener('abort', abort(context.cancellationSignal), { once: true });
    const options = { timeout: input.requestTimeoutMs, maxRetries: 0, signal: controller.signal };
    try {
      if (!streaming.streams(input.model)) return await openai.chat.completions.create(body, options);
      const response = await openai.chat.completions
        .create({ ...body, stream: true, stream_options: { include_usage: true } }, options)
        .asResponse()
        .catch((error: unknown) => {
          if (!streaming.mayBeRefusal(error)) throw error;
          return undefined;
        });
      if (!response) {
        // Refused, or a bad request either way: asked unstreamed, an endpoint that cannot stream answers
        // (and is not asked to stream again), and a bad request fails as it would have.
        const answer = await openai.chat.completions.create(body, options);
        streaming.refused(input.model);
        return answer;
      }
      return await readCompletion(response, controller, openai, onText ?? (() => undefined), {
        ...(input.maxOutputTokens && { stopAtTextBytes: overrunBytes(input.maxOutputTokens) }),
      });
    } catch (error) {
      // A cancelled call stays cancelled (the SDK's own abort error), a stalled one times out.
      if (context.cancellationSignal.aborted) throw new OpenAI.APIUserAbortError();
      throw deadline.signal.aborted ? deadline.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    /** One step of a run: the transcript to the model, its answer back. */
    callModel(input: ModelCallInput): Promise<ModelCallResult> {
      return complete(input, (transcript) => transcript, true);
    },

    /** A summary of the oldest part of the transcript, asked of the run's model (no tools). */
    summarizeConversation({ from, to, maxInputBytes, ...input }: SummaryCallInput): Promise<ModelCallResult> {
      return complete(
        { ...input, tools: [] },
        (transcript) => summaryRequest(transcript.slice(from, to), maxInputBytes),
        false,
      );
    },
  };
}

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
import { knownModels, recordModelCall, recordPacedWait, type ModelKnowledge } from './metrics';
import { classifyModelError, displayEndpoint } from './model-errors';
import { cutAtCap, OutputCapChoice, overran, overrunBytes, type CapParameters } from './output-cap';
import { ModelCallPacer, pacingKey, type PacedCall, type PacingWait } from './rate-limit-pacing';
import { estimatedTokens, SilentUsageNotice } from './usage-estimate';
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
  /** The worker's rate-limit knowledge (with `MODEL_TOKENS_PER_MINUTE`); one of its own otherwise. */
  pacer?: ModelCallPacer;
}

/** What an activity's start-to-close keeps beyond its request timeout (workflows/activities.ts): not for pacing. */
const REQUEST_MARGIN_MS = 5_000;

/** The output a call without a cap is assumed to take, for pacing: what a provider counts it at is unknown. */
const UNCAPPED_OUTPUT_ESTIMATE = 1_024;

/** A call's output cap: the budget's (a wrap-up's), the agent's `max_completion_tokens`, whichever is lower. */
function outputCapOf(input: ModelCallInput): number | undefined {
  const caps = [input.maxOutputTokens, input.modelSettings?.max_completion_tokens].filter((cap) => cap !== undefined);
  return caps.length ? Math.min(...caps) : undefined;
}

/** Builds the model activities around one shared client. */
export function createModelActivities(deps: ModelActivityDeps) {
  const { openai, prices, transcripts, streamModelCalls = true, pacer = new ModelCallPacer() } = deps;
  const streaming = new StreamingChoice(streamModelCalls);
  const caps = new OutputCapChoice(deps.outputCaps);
  const silentUsage = new SilentUsageNotice();
  const endpoint = displayEndpoint(openai.baseURL);
  const limitsKey = pacingKey(openai.baseURL, openai.apiKey ?? '');
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
      const estimate = estimatedTokens(requestBytes) + (outputCapOf(input) ?? UNCAPPED_OUTPUT_ESTIMATE);
      completion = await paced(input, estimate, context, heartbeats)
        .then((call) =>
          // Heard from whatever happens, or the worker would wait on it for good (later hearings are no-ops).
          request(input, messages, context, { onText: live ? publish : undefined, call }).finally(() =>
            call.heard(undefined),
          ),
        )
        .catch((error: unknown) => {
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
    const cap = outputCapOf(input);
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
   * Waits, before the request of a call of `estimate` tokens, while the provider's counters (or the
   * worker's own ceiling) leave too little for it: until the reset, or until an answer to one of the
   * worker's calls in flight says what is left, heartbeating what it waits for, and cancellable. A call
   * waits only as long as its activity's start-to-close leaves beyond its request timeout (runs
   * recorded before pacing leave none): a longer reset is left to the provider's 429.
   */
  async function paced(
    input: ModelCallInput,
    estimate: number,
    context: Context,
    heartbeats: ReturnType<typeof startHeartbeats>,
  ): Promise<PacedCall> {
    const startedAtMs = Date.now();
    const deadlineMs = startedAtMs + context.info.startToCloseTimeoutMs - input.requestTimeoutMs - REQUEST_MARGIN_MS;
    let waited: PacingWait | undefined;
    for (let wait = pacer.waitFor(limitsKey, estimate); wait; wait = pacer.waitFor(limitsKey, estimate)) {
      const untilMs = Date.now() + wait.waitMs;
      // A reset past the deadline is not waited for; an answer may come before it.
      if (untilMs > deadlineMs && !wait.untilHeard) break;
      const resumesAtMs = Math.min(untilMs, deadlineMs);
      if (resumesAtMs <= Date.now()) break;
      heartbeats.heartbeat({ pacing: { limit: wait.limit, resumesAtMs: Math.ceil(resumesAtMs) } });
      // Logged once a limit: a call single-file is woken by every answer to check again.
      if (waited?.limit !== wait.limit) {
        context.log.debug('model call paced', { limit: wait.limit, waitMs: resumesAtMs - Date.now() });
      }
      waited = wait;
      try {
        await pacer.pause(resumesAtMs - Date.now(), wait.untilHeard, context.cancellationSignal);
      } catch (error) {
        if (context.cancellationSignal.aborted) throw new OpenAI.APIUserAbortError();
        throw error;
      }
    }
    const call = pacer.start(limitsKey, estimate);
    if (!waited) return call;
    // The call goes now: its details stop saying it waits (an unstreamed answer sends no others).
    heartbeats.heartbeat(undefined);
    recordPacedWait(input.agent, input.model, waited.limit, (Date.now() - startedAtMs) / 1_000, metricModels);
    return call;
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
    { onText, call }: { onText: ((answer: StreamedAnswer) => void) | undefined; call: PacedCall },
  ): Promise<unknown> {
    // The agent's settings as they are, but the cap (sent as the model takes one) and the parallel-call
    // switch (which an endpoint refuses in a request without tools).
    const { max_completion_tokens: _cap, parallel_tool_calls, ...settings } = input.modelSettings ?? {};
    const cap = outputCapOf(input);
    const body = {
      ...settings,
      model: input.model,
      messages,
      ...(input.tools.length && {
        tools: input.tools.map((tool) => ({ type: 'function' as const, function: tool })),
        ...(input.toolChoice && { tool_choice: input.toolChoice }),
        ...(parallel_tool_calls !== undefined && { parallel_tool_calls }),
      }),
      ...(cap && caps.fields(input.model, cap)),
      ...(input.responseFormat && {
        response_format: { type: 'json_schema' as const, json_schema: input.responseFormat },
      }),
    };
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new OpenAI.APIConnectionTimeoutError()), input.requestTimeoutMs);
    const controller = new AbortController();
    const abort = (signal: AbortSignal) => () => controller.abort(signal.reason);
    deadline.signal.addEventListener('abort', abort(deadline.signal), { once: true });
    context.cancellationSignal.addEventListener('abort', abort(context.cancellationSignal), { once: true });
    const options = { timeout: input.requestTimeoutMs, maxRetries: 0, signal: controller.signal };
    try {
      if (!streaming.streams(input.model)) {
        const { data, response } = await openai.chat.completions.create(body, options).withResponse();
        call.heard(response.headers);
        return data;
      }
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
        const { data, response: unstreamed } = await openai.chat.completions.create(body, options).withResponse();
        streaming.refused(input.model);
        call.heard(unstreamed.headers);
        return data;
      }
      // A stream's headers come before its answer: a call waiting its turn goes on what they say.
      call.heard(response.headers);
      return await readCompletion(response, controller, openai, onText ?? (() => undefined), {
        ...(cap && { stopAtTextBytes: overrunBytes(cap) }),
      });
    } catch (error) {
      // A refusal's headers say what is left too (a 429's: nothing, until the reset).
      call.heard(error instanceof OpenAI.APIError ? error.headers : undefined);
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

/**
 * Keeps the conversation inside the model's context window: when the next request would pass the
 * spec's threshold (`compactAtTokens`, a share of the window), the oldest part of the conversation
 * is summarised by a model call and replaced by one summary message. The system prompt, the message
 * the current turn answers and the most recent messages stay as they are; a tool call is never
 * separated from its result. When the server refuses a request as past its window anyway (a local
 * model's window the run did not know), the conversation is shortened to well under it.
 */
import { log } from '@temporalio/workflow';
import { SUMMARY_HEADING, summaryMessage } from '../src/summaries';
import type { AgentSpec, ChatMessage } from '../src/types';
import { serializedBytes } from '../src/validation';
import type { ContextExceededDetails } from '../activities/model-errors';
import { summarizeConversation } from './activities';
import { compactTranscript } from './compaction';
import type { Budget } from './budget';
import { callModelWithFallback } from './model-calls';
import type { StatusReport } from './status-report';
import type { TranscriptSender } from './transcript-sender';
import type { RunProgress } from './run-progress';

/** The share of the threshold the kept recent messages may fill, so a summary buys room for many steps. */
const KEPT_SHARE = 0.5;
/** The share of the window the summariser's input may fill (the rest is its instructions and its answer). */
const SUMMARISED_SHARE = 0.5;
/** A summary may take this share of the window, within the bounds below. */
const SUMMARY_SHARE = 0.1;
const SUMMARY_TOKENS = { least: 256, most: 4_096 } as const;
/** Fewer bytes a token than this is not believed (it would let the summariser's input pass the window). */
const FEWEST_BYTES_PER_TOKEN = 2;

export interface ContextWindowContext {
  spec: AgentSpec;
  messages: ChatMessage[];
  progress: RunProgress;
  budget: Budget;
  status: StatusReport;
  transcripts: TranscriptSender;
  /** Compacts the transcript; returns the size of a model request over it, in bytes. */
  requestBytes(): number;
}

/** Index of the first message after the leading system prompts that are not summaries: those always stay. */
function pinnedHead(messages: ChatMessage[]): number {
  let index = 0;
  while (
    index < messages.length &&
    messages[index].role === 'system' &&
    !messages[index].content?.startsWith(SUMMARY_HEADING)
  ) {
    index += 1;
  }
  return index;
}

/**
 * The stretch `[from, to)` to summarise so that what stays after it fits in `keptBytes`: it starts
 * after the pinned head (and after the current turn's message, when that is older), and ends before
 * the model's last answer, whatever its size, and never between a tool call and its results.
 * Undefined when there is too little to summarise.
 */
export function stretchToSummarise(
  messages: ChatMessage[],
  turnStart: number,
  keptBytes: number,
): { from: number; to: number } | undefined {
  const lastAnswer = messages.map((message) => message.role).lastIndexOf('assistant');
  let to = lastAnswer === -1 ? messages.length : lastAnswer;
  let kept = 0;
  while (to > 0) {
    kept += serializedBytes(messages[to - 1]);
    if (kept > keptBytes) break;
    to -= 1;
  }
  // A tool result stays with the answer that called it: both are kept.
  while (to > 0 && messages[to]?.role === 'tool') to -= 1;
  const head = pinnedHead(messages);
  const from = turnStart >= head && turnStart < to ? turnStart + 1 : head;
  return to - from >= 2 ? { from, to } : undefined;
}

/**
 * Summarises the oldest part of the conversation if the next request would pass the threshold;
 * returns where the current turn starts afterwards (`turnStart` moved for what was replaced): at
 * once, with no promise, when nothing is summarised (most steps; the SDK takes a stack trace of each
 * promise a workflow makes).
 */
export function fitContextWindow(context: ContextWindowContext, turnStart: number): number | Promise<number> {
  const { spec, messages, progress, budget } = context;
  const threshold = spec.compactAtTokens;
  const window = spec.contextWindowTokens;
  if (threshold === undefined || window === undefined) return turnStart;
  const bytes = context.requestBytes();
  const tokens = budget.inputTokensFor(bytes);
  if (tokens <= threshold) return turnStart;
  const bytesPerToken = Math.max(FEWEST_BYTES_PER_TOKEN, bytes / Math.max(1, tokens));
  const stretch = stretchToSummarise(messages, turnStart, Math.floor(threshold * KEPT_SHARE * bytesPerToken));
  if (!stretch) {
    log.warn('the conversation nears the context window but has nothing old enough to summarise', { tokens });
    return turnStart;
  }
  const step = progress.step + 1;
  return summariseStretch(context, turnStart, stretch, { window, bytesPerToken, step, tokens }).then(
    (start) => start ?? turnStart,
  );
}

/**
 * Replaces `stretch` with a summary asked of the run's model (shown as `summarize · step N`, before
 * step `step`); returns where the current turn starts afterwards, or undefined when no summary came.
 */
async function summariseStretch(
  context: ContextWindowContext,
  turnStart: number,
  stretch: { from: number; to: number },
  { window, bytesPerToken, step, tokens }: { window: number; bytesPerToken: number; step: number; tokens: number },
): Promise<number | undefined> {
  const { spec, messages, progress } = context;
  const outcome = await callModelWithFallback(
    spec,
    messages,
    (model, carrier, options) =>
      summarizeConversation(
        spec,
        {
          model,
          step,
          ...carrier,
          ...stretch,
          maxInputBytes: Math.floor(window * SUMMARISED_SHARE * bytesPerToken),
          maxOutputTokens: Math.min(
            SUMMARY_TOKENS.most,
            Math.max(SUMMARY_TOKENS.least, Math.floor(window * SUMMARY_SHARE)),
          ),
        },
        options,
      ),
    { transcripts: context.transcripts },
  );
  if (!('response' in outcome)) return undefined;
  const { response } = outcome;
  progress.spend(response);
  context.status.reportUsage(progress.step, progress.usage);
  const summary = response.message.content?.trim();
  if (!summary) {
    log.warn('the summary came back empty; the conversation stays as it is', { step });
    return undefined;
  }
  const { from, to } = stretch;
  messages.splice(from, to - from, summaryMessage(summary));
  log.info('conversation summarised', { step, summarisedMessages: to - from, estimatedTokens: tokens });
  return turnStart >= to ? turnStart - (to - from) + 1 : turnStart;
}

/** The share of a refused request's window the shortened conversation aims at: well under it, to be let in. */
const REFUSED_TARGET_SHARE = 0.5;

/**
 * After the server refused the request of step `step` as past the context window (`exceeded`: the
 * numbers it said, if any): the oldest part of the conversation summarised, or, with nothing old
 * enough to summarise, old tool results and turns replaced by notes, so the request can be sent
 * once more. Returns where the current turn starts afterwards, and whether anything was shortened.
 */
export async function shortenRefusedRequest(
  context: ContextWindowContext,
  turnStart: number,
  step: number,
  exceeded: ContextExceededDetails,
): Promise<{ turnStart: number; shortened: boolean }> {
  const { spec, messages, budget } = context;
  const bytes = context.requestBytes();
  const tokens = exceeded.requestTokens ?? budget.inputTokensFor(bytes);
  const bytesPerToken = Math.max(FEWEST_BYTES_PER_TOKEN, bytes / Math.max(1, tokens));
  // The window the server said, else the one the run knows, else less than what it refused.
  const window = exceeded.windowTokens ?? spec.contextWindowTokens ?? Math.floor(tokens * REFUSED_TARGET_SHARE);
  const targetBytes = Math.floor(window * REFUSED_TARGET_SHARE * bytesPerToken);
  const stretch = stretchToSummarise(messages, turnStart, Math.floor(targetBytes * KEPT_SHARE));
  if (stretch) {
    const summarised = await summariseStretch(context, turnStart, stretch, { window, bytesPerToken, step, tokens });
    if (summarised !== undefined) return { turnStart: summarised, shortened: true };
  }
  const { replaced } = compactTranscript(messages, targetBytes);
  log.warn('the model server refused the request as past its context window; shortened it to ask again', {
    step,
    requestTokens: tokens,
    windowTokens: window,
    omittedMessages: replaced,
  });
  return { turnStart, shortened: replaced > 0 };
}

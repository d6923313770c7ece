/**
 * Usage an endpoint did not report. Some OpenAI-compatible servers send no usage (llama-cpp-python
 * never does in a stream), or zeros; counted as 0, a run's tokens, cost, budgets and metrics would
 * all read nothing. Such a call is counted by estimate from the bytes it sent and received, and
 * marked `estimated`, so budgets hold and nobody mistakes the figure for the provider's.
 */

/** Bytes a token, as English text and JSON run: the estimate's only assumption. */
export const ESTIMATED_BYTES_PER_TOKEN = 4;

/** Tokens of `bytes` of text, estimated: at least 1 for anything sent or said. */
export function estimatedTokens(bytes: number): number {
  return bytes > 0 ? Math.max(1, Math.ceil(bytes / ESTIMATED_BYTES_PER_TOKEN)) : 0;
}

/** What a call spent: as reported, or estimated (`estimated`) where the endpoint said nothing. */
export interface CallUsage {
  inputTokens: number;
  outputTokens: number;
  estimated: boolean;
}

/**
 * The call's usage from the endpoint's `usage` (its counts, each absent when not reported): a count
 * it left out, or a report of zero tokens for a request that sent some, is estimated from `sizes`.
 */
export function reportedUsage(
  usage: { prompt_tokens?: number; completion_tokens?: number } | null | undefined,
  sizes: { requestBytes: number; answerBytes: number },
): CallUsage {
  const input = usage?.prompt_tokens;
  const output = usage?.completion_tokens;
  // Zero for both is no report: no request that reaches a model reads nothing.
  const silent = (input ?? 0) + (output ?? 0) === 0 && sizes.requestBytes > 0;
  const inputTokens = input === undefined || silent ? estimatedTokens(sizes.requestBytes) : input;
  const outputTokens = output === undefined || silent ? estimatedTokens(sizes.answerBytes) : output;
  return { inputTokens, outputTokens, estimated: input === undefined || output === undefined || silent };
}

/**
 * Says once per model, in the worker's log, that its endpoint reports no usage: with `warn` (the
 * activity's logger) the first time `model` answers without it.
 */
export class SilentUsageNotice {
  private readonly told = new Set<string>();

  noticed(model: string, endpoint: string, warn: (message: string) => void): void {
    if (this.told.has(model)) return;
    this.told.add(model);
    warn(
      `model ${model} at ${endpoint} reports no usage: its calls are counted by estimate ` +
        `(about ${ESTIMATED_BYTES_PER_TOKEN} bytes a token) and marked estimated in usage, status, transcripts and metrics`,
    );
  }
}

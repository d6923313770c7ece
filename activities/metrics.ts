/**
 * The agent metrics activities record, in the worker's metric meter (exported with the SDK's own at
 * `METRICS_PORT`). An activity records what it did
 * once it did it, so a retried attempt counts again only when it called the model or ran the tool again.
 */
import { metricMeter } from '@temporalio/activity';

/** How a tool call ended, as `agent_tool_calls` counts it. */
export const ToolOutcome = {
  ok: 'ok',
  /** The arguments did not fit the tool's schema: the model reads why. */
  rejected: 'rejected',
  /** A `ToolError`, written for the model. */
  error: 'error',
  /** Any other exception. */
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type ToolOutcome = (typeof ToolOutcome)[keyof typeof ToolOutcome];

/** One model call answered: `agent_model_calls`, `agent_tokens` (by direction) and `agent_cost_usd`. */
export function recordModelCall(
  agent: string,
  {
    model,
    inputTokens,
    outputTokens,
    costUsd,
  }: { model: string; inputTokens: number; outputTokens: number; costUsd: number },
): void {
  const tags = { agent, model };
  metricMeter.createCounter('agent_model_calls', 'calls', 'Model calls answered').add(1, tags);
  const tokens = metricMeter.createCounter('agent_tokens', 'tokens', 'Tokens model calls read and wrote');
  tokens.add(inputTokens, { ...tags, direction: 'input' });
  tokens.add(outputTokens, { ...tags, direction: 'output' });
  // A histogram, since counters count whole numbers: its `_sum` is the dollars spent.
  metricMeter.createHistogram('agent_cost_usd', 'float', 'USD', 'Cost of each model call').record(costUsd, tags);
}

/** One tool call ended: `agent_tool_calls`. */
export function recordToolCall(agent: string, tool: string, outcome: ToolOutcome): void {
  metricMeter.createCounter('agent_tool_calls', 'calls', 'Tool calls, by outcome').add(1, { agent, tool, outcome });
}

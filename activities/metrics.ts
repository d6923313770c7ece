/**
 * The agent metrics activities record, in the worker's metric meter (exported with the SDK's own at
 * `METRICS_PORT`). An activity records what it did
 * once it did it, so a retried attempt counts again only when it called the model or ran the tool again.
 *
 * Label values are bounded: each distinct one is a time series the worker keeps, and exports on every
 * scrape, for as long as it runs. Agent and tool names are the registered ones; the model is whatever a
 * run's input names, which any caller chooses, so only the models this worker knows keep their name.
 */
import { metricMeter } from '@temporalio/activity';
import type { ContextWindows } from '../src/context-windows';
import type { ModelCallResult } from '../src/activity-contract';
import type { PriceTable } from '../src/pricing';
import type { AgentRegistry } from '../src/registry';

/** The `model` label of a model this worker does not know (`knownModels`). */
export const OTHER_MODEL = 'other';

/** The longest label value; agent and tool names are 64 characters at most, model names rarely longer. */
const LABEL_MAX_CHARS = 128;

/** What a worker knows of models: `AGENT_MODEL`, `MODEL_PRICES`, `MODEL_CONTEXT_WINDOWS` and its agents. */
export interface ModelKnowledge {
  registry: AgentRegistry;
  defaultModel: string;
  prices: PriceTable;
  contextWindows: ContextWindows;
}

/**
 * The models whose calls the metrics name: the worker's default model, every model it has a price or a
 * context window for (built in, or added by `MODEL_PRICES` / `MODEL_CONTEXT_WINDOWS`: how an operator
 * names one more), and every registered agent's model and fallback models.
 */
export function knownModels({ registry, defaultModel, prices, contextWindows }: ModelKnowledge): ReadonlySet<string> {
  const agents = registry.entries().map(({ agent }) => agent);
  return new Set([
    defaultModel,
    ...Object.keys(prices),
    ...Object.keys(contextWindows),
    ...agents.flatMap((agent) => [...(agent.model ? [agent.model] : []), ...(agent.fallbackModels ?? [])]),
  ]);
}

/** A label value cut to `LABEL_MAX_CHARS`. */
function labelValue(value: string): string {
  return value.length > LABEL_MAX_CHARS ? value.slice(0, LABEL_MAX_CHARS) : value;
}

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

/**
 * The kinds `agent_tokens` counts apart, each a part of one `direction` (so old queries by direction
 * still sum to the totals): input not read from the prompt cache, input read from it (billed at the
 * cached price), output that is not reasoning, and reasoning (billed as output). Four values, bounded.
 */
export const TokenKind = {
  input: 'input',
  cachedInput: 'cached_input',
  output: 'output',
  reasoning: 'reasoning',
} as const;

/** What the metrics read of a model call's result. */
type CallMetrics = Pick<
  ModelCallResult,
  'model' | 'inputTokens' | 'outputTokens' | 'cachedInputTokens' | 'reasoningTokens' | 'costUsd' | 'usageEstimated'
>;

/** The tokens of one call by kind, as `agent_tokens` counts them: parts that sum to input plus output. */
function tokensByKind({
  inputTokens,
  outputTokens,
  cachedInputTokens = 0,
  reasoningTokens = 0,
}: CallMetrics): [string, 'input' | 'output', number][] {
  return [
    [TokenKind.input, 'input', inputTokens - cachedInputTokens],
    [TokenKind.cachedInput, 'input', cachedInputTokens],
    [TokenKind.output, 'output', outputTokens - reasoningTokens],
    [TokenKind.reasoning, 'output', reasoningTokens],
  ];
}

/**
 * One model call answered: `agent_model_calls`, `agent_tokens` (by direction and kind) and
 * `agent_cost_usd` (as billed), labelled with its model if it is one of `models` (`knownModels`), else `other`.
 */
export function recordModelCall(agent: string, result: CallMetrics, models: ReadonlySet<string>): void {
  const { model, inputTokens, outputTokens, costUsd, usageEstimated } = result;
  const tags = { agent: labelValue(agent), model: models.has(model) ? labelValue(model) : OTHER_MODEL };
  metricMeter.createCounter('agent_model_calls', 'calls', 'Model calls answered').add(1, tags);
  const tokens = metricMeter.createCounter('agent_tokens', 'tokens', 'Tokens model calls read and wrote, by kind');
  for (const [kind, direction, count] of tokensByKind(result)) {
    // A kind the call had none of adds no series: most endpoints report neither cache nor reasoning.
    if (count > 0 || kind === TokenKind.input || kind === TokenKind.output)
      tokens.add(count, { ...tags, direction, kind });
  }
  if (usageEstimated) {
    // The share of agent_tokens that is estimated: the endpoint reported no usage for these calls.
    const estimated = metricMeter.createCounter(
      'agent_tokens_estimated',
      'tokens',
      'Tokens of agent_tokens counted by estimate (the endpoint reported no usage)',
    );
    estimated.add(inputTokens, { ...tags, direction: 'input' });
    estimated.add(outputTokens, { ...tags, direction: 'output' });
  }
  // A histogram, since counters count whole numbers: its `_sum` is the dollars spent.
  metricMeter.createHistogram('agent_cost_usd', 'float', 'USD', 'Cost of each model call').record(costUsd, tags);
}

/**
 * A model call waited `seconds` before its request for the provider's rate limit (`limit`: `tokens` or
 * `requests`), or this worker's `MODEL_TOKENS_PER_MINUTE` (`worker_tokens`): `agent_model_paced_seconds`.
 */
export function recordPacedWait(
  agent: string,
  model: string,
  limit: string,
  seconds: number,
  models: ReadonlySet<string>,
): void {
  const tags = { agent: labelValue(agent), model: models.has(model) ? labelValue(model) : OTHER_MODEL, limit };
  metricMeter
    .createHistogram('agent_model_paced_seconds', 'float', 's', 'Time model calls waited for a rate limit to reset')
    .record(seconds, tags);
}

/** One tool call ended: `agent_tool_calls`. */
export function recordToolCall(agent: string, tool: string, outcome: ToolOutcome): void {
  metricMeter
    .createCounter('agent_tool_calls', 'calls', 'Tool calls, by outcome')
    .add(1, { agent: labelValue(agent), tool: labelValue(tool), outcome });
}

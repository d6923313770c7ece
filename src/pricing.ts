/**
 * Cost of model usage from a per-model price table that users extend with env `MODEL_PRICES`.
 */
import { z } from 'zod';
import { parseJsonVariable } from './validation';

/**
 * US dollars per million tokens. `cachedInputPerMillion` prices the input tokens the provider read
 * from its prompt cache; without it they cost `inputPerMillion` (as every price recorded before it).
 * Reasoning tokens are output tokens, billed at `outputPerMillion`. Built on use: workflows import
 * this module, and the SDK evaluates it again for every run it starts.
 */
export function modelPriceSchema() {
  const perMillion = z.number().nonnegative().max(1_000_000);
  return z
    .object({ inputPerMillion: perMillion, cachedInputPerMillion: perMillion.optional(), outputPerMillion: perMillion })
    .strict();
}
export type ModelPrice = z.infer<ReturnType<typeof modelPriceSchema>>;
export type PriceTable = Record<string, ModelPrice>;

/**
 * List prices of common models (OpenAI's published standard-tier prices, cached input included, as of
 * 2025: docs/pricing.md); a model missing here costs 0 and is marked unknown.
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o': { inputPerMillion: 2.5, cachedInputPerMillion: 1.25, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, cachedInputPerMillion: 0.075, outputPerMillion: 0.6 },
  'gpt-4.1': { inputPerMillion: 2, cachedInputPerMillion: 0.5, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, cachedInputPerMillion: 0.1, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, cachedInputPerMillion: 0.025, outputPerMillion: 0.4 },
  'o4-mini': { inputPerMillion: 1.1, cachedInputPerMillion: 0.275, outputPerMillion: 4.4 },
};

/** The default table extended by a JSON table (the value of `MODEL_PRICES`). */
export function buildPriceTable(extraJson?: string): PriceTable {
  if (!extraJson) return { ...DEFAULT_PRICES };
  return {
    ...DEFAULT_PRICES,
    ...parseJsonVariable('MODEL_PRICES', extraJson, z.record(z.string(), modelPriceSchema())),
  };
}

/** Dollars as people are shown them, by the CLI and the Web UI alike: `$0.000027` (six decimals: a call costs fractions of a cent). */
export function formatDollars(amount: number): string {
  return `$${amount.toFixed(6)}`;
}

/** A run's cost as people are shown it: `$0.000027`, saying when a model it called had no price. */
export function formatCost({ costUsd, costKnown }: { costUsd: number; costKnown: boolean }): string {
  return `${formatDollars(costUsd)}${costKnown ? '' : ' (some models unpriced)'}`;
}

/** The tokens of one response as billed: `cachedInputTokens` are part of `inputTokens` (reasoning ones of output). */
export interface BilledTokens {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
}

/** The parts of a usage billed apart: input read from the prompt cache, output spent reasoning. */
export interface BilledParts {
  cachedInputTokens?: number;
  reasoningTokens?: number;
}

/** The parts of `sum` and `more` added, each present only when above 0 (so usage without them keeps its shape). */
export function addBilledParts(sum: BilledParts | undefined, more: BilledParts): BilledParts {
  const cached = (sum?.cachedInputTokens ?? 0) + (more.cachedInputTokens ?? 0);
  const reasoning = (sum?.reasoningTokens ?? 0) + (more.reasoningTokens ?? 0);
  return { ...(cached > 0 && { cachedInputTokens: cached }), ...(reasoning > 0 && { reasoningTokens: reasoning }) };
}

/** Cost of one response as billed (cached input at its price); `known` is false when the model has no price. */
export function costOf(
  prices: PriceTable,
  model: string,
  { inputTokens, outputTokens, cachedInputTokens = 0 }: BilledTokens,
): { costUsd: number; known: boolean } {
  // Own properties only: a model named "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(prices, model)) return { costUsd: 0, known: false };
  const price = prices[model];
  const cached = Math.min(cachedInputTokens, inputTokens);
  const cachedPrice = price.cachedInputPerMillion ?? price.inputPerMillion;
  return {
    costUsd:
      ((inputTokens - cached) * price.inputPerMillion + cached * cachedPrice + outputTokens * price.outputPerMillion) /
      1_000_000,
    known: true,
  };
}

/**
 * Cost of model usage from a per-model price table that users extend with env `MODEL_PRICES`.
 */
import { z } from 'zod';
import { parseJsonVariable } from './validation';

/** US dollars per million tokens. */
export interface ModelPrice {
  inputPerMillion: number;
  outputPerMillion: number;
}
export type PriceTable = Record<string, ModelPrice>;

/** List prices of common models; a model missing here costs 0 and is marked unknown. */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o': { inputPerMillion: 2.5, outputPerMillion: 10 },
  'gpt-4o-mini': { inputPerMillion: 0.15, outputPerMillion: 0.6 },
  'gpt-4.1': { inputPerMillion: 2, outputPerMillion: 8 },
  'gpt-4.1-mini': { inputPerMillion: 0.4, outputPerMillion: 1.6 },
  'gpt-4.1-nano': { inputPerMillion: 0.1, outputPerMillion: 0.4 },
  'o4-mini': { inputPerMillion: 1.1, outputPerMillion: 4.4 },
};

const priceTableSchema = z.record(
  z.string(),
  z.object({ inputPerMillion: z.number().nonnegative(), outputPerMillion: z.number().nonnegative() }).strict(),
);

/** The default table extended by a JSON table (the value of `MODEL_PRICES`). */
export function buildPriceTable(extraJson?: string): PriceTable {
  if (!extraJson) return { ...DEFAULT_PRICES };
  return { ...DEFAULT_PRICES, ...parseJsonVariable('MODEL_PRICES', extraJson, priceTableSchema) };
}

/** Dollars as people are shown them, by the CLI and the Web UI alike: `$0.000027` (six decimals: a call costs fractions of a cent). */
export function formatDollars(amount: number): string {
  return `$${amount.toFixed(6)}`;
}

/** A run's cost as people are shown it: `$0.000027`, saying when a model it called had no price. */
export function formatCost({ costUsd, costKnown }: { costUsd: number; costKnown: boolean }): string {
  return `${formatDollars(costUsd)}${costKnown ? '' : ' (some models unpriced)'}`;
}

/** Cost of one response; `known` is false when the model has no price. */
export function costOf(
  prices: PriceTable,
  model: string,
  inputTokens: number,
  outputTokens: number,
): { costUsd: number; known: boolean } {
  // Own properties only: a model named "constructor" must not find Object.prototype's.
  if (!Object.hasOwn(prices, model)) return { costUsd: 0, known: false };
  const price = prices[model];
  return {
    costUsd: (inputTokens * price.inputPerMillion + outputTokens * price.outputPerMillion) / 1_000_000,
    known: true,
  };
}

/**
 * What a bench row's figures imply for N agent runs in flight at once, each step waiting
 * `modelLatencyMs` on the model (docs/capacity.md explains the model and its limits):
 *
 * - a step lasts the model's latency plus the row's overhead per step (measured against an instant
 *   model, added as is: no queueing, no contention);
 * - N runs always in flight (a new one starts as one ends) make N / step-seconds steps per second;
 * - cores = steps per second × CPU seconds per step, for the process running the loop (worker) and
 *   for the engine's server, each measured at its own /proc;
 * - Temporal Actions per hour = runs per hour × Actions per run (support/billable-actions.ts);
 * - the model's cost = runs per hour × the run's tokens at the given prices.
 */
import { z } from 'zod';

/** Prices: USD per million input and output tokens, and per million Temporal Actions. */
export const PricesSchema = z.object({
  inputPerMillionTokens: z.number().nonnegative(),
  outputPerMillionTokens: z.number().nonnegative(),
  perMillionActions: z.number().nonnegative(),
});
export type Prices = z.infer<typeof PricesSchema>;

/** The question: how many runs in flight, at what model latency, of how many steps. */
export const CapacityQuestionSchema = z.object({
  concurrentRuns: z.number().int().positive(),
  modelLatencyMs: z.number().nonnegative(),
  stepsPerRun: z.number().int().positive(),
  prices: PricesSchema,
});
export type CapacityQuestion = z.infer<typeof CapacityQuestionSchema>;

/** What the model reads of a bench row. */
export interface CapacityInput {
  label: string;
  overheadPerStepMs: number;
  workerCpuSecondsPerStep: number;
  serverCpuSecondsPerStep?: number;
  /** Temporal rows: billable Actions and history bytes per run. */
  actionsPerRun?: number;
  historyBytesPerRun?: number;
  /** The model's tokens per run (the same work unit in every row). */
  inputTokensPerRun: number;
  outputTokensPerRun: number;
}

export interface CapacityLine {
  label: string;
  runSeconds: number;
  runsPerHour: number;
  stepsPerSecond: number;
  workerCores: number;
  serverCores?: number;
  actionsPerRun?: number;
  actionsPerHour?: number;
  actionsUsdPerHour?: number;
  historyBytesPerRun?: number;
  modelUsdPerHour: number;
  /** Temporal Actions' cost over the model's, for the same runs. */
  actionsOverModelCost?: number;
}

/** The figures of one row for `question`. */
export function capacityLine(question: CapacityQuestion, row: CapacityInput): CapacityLine {
  const stepSeconds = (question.modelLatencyMs + Math.max(0, row.overheadPerStepMs)) / 1000;
  if (stepSeconds <= 0) throw new Error(`${row.label}: a step of 0 s has no capacity figure`);
  const runSeconds = stepSeconds * question.stepsPerRun;
  const runsPerHour = (question.concurrentRuns * 3600) / runSeconds;
  const stepsPerSecond = question.concurrentRuns / stepSeconds;
  const { prices } = question;
  const actionsPerHour = row.actionsPerRun === undefined ? undefined : runsPerHour * row.actionsPerRun;
  const actionsUsdPerHour =
    actionsPerHour === undefined ? undefined : (actionsPerHour * prices.perMillionActions) / 1e6;
  const modelUsdPerHour =
    (runsPerHour *
      (row.inputTokensPerRun * prices.inputPerMillionTokens + row.outputTokensPerRun * prices.outputPerMillionTokens)) /
    1e6;
  return {
    label: row.label,
    runSeconds,
    runsPerHour,
    stepsPerSecond,
    workerCores: stepsPerSecond * row.workerCpuSecondsPerStep,
    serverCores: row.serverCpuSecondsPerStep === undefined ? undefined : stepsPerSecond * row.serverCpuSecondsPerStep,
    actionsPerRun: row.actionsPerRun,
    actionsPerHour,
    actionsUsdPerHour,
    historyBytesPerRun: row.historyBytesPerRun,
    modelUsdPerHour,
    actionsOverModelCost:
      actionsUsdPerHour === undefined || modelUsdPerHour === 0 ? undefined : actionsUsdPerHour / modelUsdPerHour,
  };
}

/** "2s", "500ms", "1.5s" or a number of milliseconds, as milliseconds. */
export function parseLatency(text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text.trim());
  if (!match) throw new Error(`--model-latency takes a duration like 2s or 500ms, got ${JSON.stringify(text)}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

/** "IN,OUT" USD per million input and output tokens (e.g. "3,15"). */
export function parseTokenPrice(text: string): { input: number; output: number } {
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 2 || parts.some((part) => !Number.isFinite(part) || part < 0))
    throw new Error(
      `--price takes USD per million input and output tokens as IN,OUT (e.g. 3,15), got ${JSON.stringify(text)}`,
    );
  return { input: parts[0], output: parts[1] };
}

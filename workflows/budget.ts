/**
 * Usage accounting and budget checks; pure functions of the run's history.
 */
import type { ModelCallResult } from '../activities';
import { LimitName, type Limits, type Usage } from '../src/types';

export const ZERO_USAGE: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, costKnown: true };

export function addUsage(usage: Usage, response: ModelCallResult): Usage {
  return {
    inputTokens: usage.inputTokens + response.inputTokens,
    outputTokens: usage.outputTokens + response.outputTokens,
    totalTokens: usage.totalTokens + response.inputTokens + response.outputTokens,
    costUsd: usage.costUsd + response.costUsd,
    costKnown: usage.costKnown && response.costKnown,
  };
}

/** The first budget already spent, checked before each model call; undefined while all hold. */
export function exceededLimit(
  limits: Limits,
  spent: { steps: number; usage: Usage; elapsedSeconds: number },
): LimitName | undefined {
  const checks: [LimitName, number][] = [
    [LimitName.maxSteps, spent.steps],
    [LimitName.maxTokens, spent.usage.totalTokens],
    [LimitName.maxCostUsd, spent.usage.costUsd],
    [LimitName.maxDurationSeconds, spent.elapsedSeconds],
  ];
  return checks.find(([name, value]) => limits[name] !== undefined && value >= limits[name])?.[0];
}

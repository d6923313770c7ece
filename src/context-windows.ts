/**
 * How many tokens a model reads at most: a built-in table of known models, extended by what the model
 * server says (llama-server, vLLM, Ollama), extended or corrected by env `MODEL_CONTEXT_WINDOWS`, and
 * overridden by an agent's `contextWindowTokens`. A run keeps its conversation under a share of it
 * by summarising the oldest part.
 */
import { z } from 'zod';
import { parseJsonVariable } from './validation';

export type ContextWindows = Record<string, number>;

/** Context windows of common models, in tokens (a dated snapshot, `gpt-4o-2024-08-06`, matches its name). */
export const DEFAULT_CONTEXT_WINDOWS: ContextWindows = {
  'gpt-3.5-turbo': 16_385,
  'gpt-4': 8_192,
  'gpt-4-turbo': 128_000,
  'gpt-4o': 128_000,
  'gpt-4o-mini': 128_000,
  'gpt-4.1': 1_047_576,
  'gpt-4.1-mini': 1_047_576,
  'gpt-4.1-nano': 1_047_576,
  'gpt-5': 400_000,
  'gpt-5-mini': 400_000,
  'gpt-5-nano': 400_000,
  o1: 200_000,
  o3: 200_000,
  'o3-mini': 200_000,
  'o4-mini': 200_000,
};

const windowsSchema = z.record(z.string().min(1), z.number().int().positive());

/**
 * The default table, then the windows the model server said (`discovered`: runtime/context-window-probe.ts),
 * then a JSON table (the value of `MODEL_CONTEXT_WINDOWS`): the operator's word wins, as for a server
 * that reports more than it serves (Ollama without `num_ctx`).
 */
export function buildContextWindows(extraJson?: string, discovered: ContextWindows = {}): ContextWindows {
  const configured = extraJson ? parseJsonVariable('MODEL_CONTEXT_WINDOWS', extraJson, windowsSchema) : {};
  return { ...DEFAULT_CONTEXT_WINDOWS, ...discovered, ...configured };
}

/** The window of `model`: its own entry, else the longest entry it is a dated or suffixed name of. */
export function contextWindowOf(windows: ContextWindows, model: string): number | undefined {
  if (Object.hasOwn(windows, model)) return windows[model];
  const family = Object.keys(windows)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return family === undefined ? undefined : windows[family];
}

/**
 * The window a run must fit: the agent's own statement, else the smallest known window among the
 * models the run may call (a fallback model reads the same transcript); undefined when none is known.
 */
export function runContextWindow(
  windows: ContextWindows,
  models: string[],
  agentWindow: number | undefined,
): number | undefined {
  if (agentWindow !== undefined) return agentWindow;
  const known = models.map((model) => contextWindowOf(windows, model)).filter((tokens) => tokens !== undefined);
  return known.length ? Math.min(...known) : undefined;
}

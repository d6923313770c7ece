/**
 * A call's output cap (a wrap-up's, or a step's under a token or cost budget) in the request field the
 * endpoint understands: OpenAI's `max_completion_tokens` (its reasoning models refuse `max_tokens`),
 * the older `max_tokens` (llama-cpp-python knows only that one, and ignores the other), or both. Per
 * model from `MODEL_OUTPUT_CAP_PARAMETERS`; a model whose answer overruns the cap it was sent gets
 * both from then on. An answer that overran is cut at the cap, so a wrap-up stays the size it was
 * allowed, streamed (reading stops, and the server stops generating) or not.
 */
import { z } from 'zod';
import { parseJsonVariable, truncateUtf8, utf8Bytes } from '../src/validation';
import { ESTIMATED_BYTES_PER_TOKEN } from './usage-estimate';

export const CAP_PARAMETERS = ['max_completion_tokens', 'max_tokens', 'both'] as const;
export type CapParameter = (typeof CAP_PARAMETERS)[number];

/** Per model (`*`: any other), the field its cap goes in. */
export type CapParameters = Record<string, CapParameter>;

const DEFAULT_CAP_PARAMETER: CapParameter = 'max_completion_tokens';

/** The table of `MODEL_OUTPUT_CAP_PARAMETERS` (JSON: {"model": "max_tokens", "*": "both"}). */
export function buildCapParameters(json?: string): CapParameters {
  if (!json) return {};
  return parseJsonVariable('MODEL_OUTPUT_CAP_PARAMETERS', json, z.record(z.string().min(1), z.enum(CAP_PARAMETERS)));
}

/**
 * Text longer than this many bytes a token of its cap passed the cap: no tokenizer's tokens are that
 * long on average, so an honest answer never gets there.
 */
const OVERRUN_BYTES_PER_TOKEN = 6;

/** The bytes of text past which an answer capped at `cap` tokens has overrun it. */
export function overrunBytes(cap: number): number {
  return cap * OVERRUN_BYTES_PER_TOKEN;
}

/** The field(s) each model's cap goes in: as configured, else `max_completion_tokens`, both once learned. */
export class OutputCapChoice {
  private readonly overran = new Set<string>();

  constructor(private readonly configured: CapParameters = {}) {}

  private parameter(model: string): CapParameter {
    if (this.overran.has(model)) return 'both';
    return this.configured[model] ?? this.configured['*'] ?? DEFAULT_CAP_PARAMETER;
  }

  /** The request fields that cap `model`'s answer at `cap` tokens. */
  fields(model: string, cap: number): { max_completion_tokens?: number; max_tokens?: number } {
    const parameter = this.parameter(model);
    return {
      ...(parameter !== 'max_tokens' && { max_completion_tokens: cap }),
      ...(parameter !== 'max_completion_tokens' && { max_tokens: cap }),
    };
  }

  /**
   * `model` answered past the cap it was sent: its cap goes in both fields from now on. Returns the
   * field it ignored when this is news (to say once in the log), else undefined.
   */
  learn(model: string): CapParameter | undefined {
    const ignored = this.parameter(model);
    if (ignored === 'both') return undefined;
    this.overran.add(model);
    return ignored;
  }
}

/** Whether an answer of `textBytes` (and `outputTokens`, when reported) overran `cap`. */
export function overran(cap: number, textBytes: number, outputTokens: number | undefined): boolean {
  return outputTokens !== undefined ? outputTokens > cap : textBytes > overrunBytes(cap);
}

/**
 * `text` cut at `cap` tokens: in proportion when the endpoint said how many tokens it wrote, else at
 * the estimate's bytes a token; at a word's end where one is near, and marked.
 */
export function cutAtCap(text: string, cap: number, outputTokens?: number): string {
  const bytes = utf8Bytes(text);
  const keep =
    outputTokens && outputTokens > cap ? Math.floor((bytes * cap) / outputTokens) : cap * ESTIMATED_BYTES_PER_TOKEN;
  if (bytes <= keep) return text;
  const cut = truncateUtf8(text, keep);
  const wordEnd = cut.search(/\s\S*$/);
  return `${wordEnd > cut.length * 0.8 ? cut.slice(0, wordEnd) : cut}…`;
}

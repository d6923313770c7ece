/**
 * What a model call that waits for a rate limit says while it waits: the heartbeat details of its
 * activity (never history), which `status`, the live line and the run's stream read back from
 * `describe()`, as `pacing: provider token limit, resumes in 4.2 s`.
 */
import { z } from 'zod';

/** The limit a call waits for: the provider's tokens or requests, or this worker's `MODEL_TOKENS_PER_MINUTE`. */
export const PacedLimit = { tokens: 'tokens', requests: 'requests', workerTokens: 'worker_tokens' } as const;
export type PacedLimit = (typeof PacedLimit)[keyof typeof PacedLimit];

const LIMIT_WORDS: Record<PacedLimit, string> = {
  tokens: 'provider token limit',
  requests: 'provider request limit',
  worker_tokens: 'MODEL_TOKENS_PER_MINUTE',
};

/** Heartbeat details are whatever a worker sent: checked before a client shows any of them. */
export const pacingNoticeSchema = z.object({
  pacing: z.object({
    limit: z.enum([PacedLimit.tokens, PacedLimit.requests, PacedLimit.workerTokens]),
    /** When the call goes ahead, in ms since the epoch on the worker's clock. */
    resumesAtMs: z.number().int().nonnegative(),
  }),
});
export type PacingNotice = z.infer<typeof pacingNoticeSchema>;

/** `pacing: provider token limit` (what the call waits for, without its clock). */
export function pacingText(limit: PacedLimit): string {
  return `pacing: ${LIMIT_WORDS[limit]}`;
}

/** `resumes in 4.2 s` at `now`. */
export function resumesIn(resumesAtMs: number, now: number): string {
  return `resumes in ${(Math.max(0, resumesAtMs - now) / 1_000).toFixed(1)} s`;
}

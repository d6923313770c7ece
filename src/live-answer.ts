/**
 * Live text: what a model call has answered so far, published in its activity's heartbeat details
 * while it streams. The server keeps only the latest details (shown by `describe` and the Web UI's
 * pending activities) and writes none of them to history, so a streamed run's history is the size of
 * an unstreamed one. Each report names its call's step and attempt: the text of an attempt that
 * failed is never mistaken for the text of the one that replaced it.
 */
import { z } from 'zod';
import { truncateUtf8, utf8Bytes } from './validation';

/** A model call's answer so far, as its heartbeat carries it. */
export interface LiveAnswer {
  /** The run's step (model call) that streams. */
  step: number;
  /** The attempt (1 for the first) whose text this is. */
  attempt: number;
  /** The text so far, from the beginning: a client that connects late gets all of it. */
  text: string;
  /** Set when `text` stopped growing at `LIVE_TEXT_MAX_BYTES`: the rest comes with the answer. */
  truncated?: boolean;
}

/**
 * At most this much text rides in one heartbeat (each carries the text from the start, at most every
 * `HEARTBEAT_THROTTLE_MS`); a longer answer's rest is shown when the call completes.
 */
export const LIVE_TEXT_MAX_BYTES = 65_536;

/** Heartbeat details are whatever a worker sent: checked before a client shows any of them. */
export const liveAnswerSchema = z.object({
  step: z.number().int().nonnegative(),
  attempt: z.number().int().positive(),
  // Room for the bound in UTF-16 code units, whatever the encoding: a client checks, it does not cut.
  text: z.string().max(LIVE_TEXT_MAX_BYTES),
  truncated: z.boolean().optional(),
});

/**
 * The heartbeat details of step `step`'s attempt `attempt`, whose answer so far is `text` (or, when
 * `totalBytes` says the answer is longer, begins with `text`).
 */
export function liveAnswer(step: number, attempt: number, text: string, totalBytes = utf8Bytes(text)): LiveAnswer {
  if (totalBytes <= LIVE_TEXT_MAX_BYTES) return { step, attempt, text };
  return { step, attempt, text: truncateUtf8(text, LIVE_TEXT_MAX_BYTES), truncated: true };
}

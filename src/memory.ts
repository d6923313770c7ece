/**
 * What a fact of a user's memory may be, checked alike by the memory workflow's updates, the runs
 * that call `remember`/`forget`, and the client before it sends anything.
 */
import { z } from 'zod';
import { Bounds } from './defaults';
import { boundedString } from './validation';

/** Payload of `remember` and `forget`: one non-empty fact of bounded size; unknown fields are refused. */
export const memoryFactInputSchema = z
  .object({ fact: boundedString(Bounds.memoryFactBytes).trim().min(1, 'must not be empty') })
  .strict();

/** Payload of the memory workflow's `remember` and `forget` updates. */
export type MemoryFactInput = z.infer<typeof memoryFactInputSchema>;

/** Two facts are the same when their texts are, ignoring case and surrounding whitespace. */
export function sameFact(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/**
 * The facts one user's memory holds, oldest first, and the checks on what may be stored: the state
 * of the `userMemory` workflow. Plain code with no Temporal calls, so it is unit-tested directly.
 */
import { MAX_MEMORY_FACTS } from '../src/defaults';
import { memoryFactInputSchema, sameFact } from '../src/memory';
import type { MemoryFact, MemoryFactInput } from '../src/types';
import { updateRejected } from '../src/failures';
import { describeIssues } from '../src/validation';

/** The validator of `remember` and `forget`: a rejected update is never written to history. */
export function validateFactInput(input: unknown): void {
  const parsed = memoryFactInputSchema.safeParse(input);
  if (!parsed.success) throw updateRejected(describeIssues(parsed.error));
}

export class MemoryFacts {
  private readonly facts: MemoryFact[];

  /** `facts` carried over from the previous run of the chain; only the newest `limit` are kept. */
  constructor(
    facts: MemoryFact[] = [],
    private readonly limit: number = MAX_MEMORY_FACTS,
  ) {
    this.facts = facts.slice(-limit).map((fact) => ({ ...fact }));
  }

  get size(): number {
    return this.facts.length;
  }

  /** The facts, oldest first (a copy). */
  list(): MemoryFact[] {
    return this.facts.map((fact) => ({ ...fact }));
  }

  /**
   * The `remember` handler: stores the fact as the newest, at `now` (ISO). A fact already held is
   * refreshed (moved to the newest, in its new wording) rather than stored twice; past the limit the
   * oldest are forgotten. Returns what was done, for the model to read.
   */
  remember(input: MemoryFactInput, now: string): string {
    const text = memoryFactInputSchema.parse(input).fact;
    const known = this.facts.findIndex((fact) => sameFact(fact.text, text));
    if (known >= 0) this.facts.splice(known, 1);
    this.facts.push({ text, rememberedAt: now });
    const evicted = this.facts.splice(0, Math.max(0, this.facts.length - this.limit));
    if (known >= 0) return 'already remembered; refreshed';
    if (evicted.length) return `remembered; the oldest fact was forgotten (at most ${this.limit} are kept)`;
    return 'remembered';
  }

  /** The `forget` handler: removes the fact (ignoring case and surrounding whitespace); returns whether it was there. */
  forget(input: MemoryFactInput): boolean {
    const text = memoryFactInputSchema.parse(input).fact;
    const known = this.facts.findIndex((fact) => sameFact(fact.text, text));
    if (known < 0) return false;
    this.facts.splice(known, 1);
    return true;
  }
}

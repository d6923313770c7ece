/**
 * What a run has done so far: steps taken (model calls) and usage spent. Its one owner is the run's
 * state (run-state.ts); a turn adds to it through these two methods; queries and the status report
 * read it.
 */
import type { ModelCallResult } from '../activities';
import type { Usage } from '../src/types';
import { addUsage, ZERO_USAGE } from './budget';

export class RunProgress {
  constructor(
    public step = 0,
    public usage: Usage = ZERO_USAGE,
  ) {}

  /** A model call begins; returns its step. */
  nextStep(): number {
    return (this.step += 1);
  }

  /** A model call answered: its tokens and cost are spent. */
  spend(response: ModelCallResult): void {
    this.usage = addUsage(this.usage, response);
  }
}

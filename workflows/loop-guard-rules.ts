/**
 * The loop guards (stuck-loop detection, wrap-up calls, the tool-call cap, the empty-answer limit)
 * as a turn applies them, and, in this one place, the path of runs started before them: those runs
 * replay without any guard. Each rule asks whether the run has the guards only where the guard
 * would change what the run does, as those runs' histories expect (older runs record a `patched()`
 * marker there; newer ones list the change in their spec and record none).
 */
import { MAX_EMPTY_ANSWERS } from '../src/defaults';
import type { AgentSpec } from '../src/types';
import type { Budget, BudgetDecision } from './budget';
import { hasLoopGuards } from './patch-checks';

export class LoopGuardRules {
  constructor(private readonly spec: Pick<AgentSpec, 'patches'>) {}

  private get guarded(): boolean {
    return hasLoopGuards(this.spec);
  }

  /** What the budget says about the next call; without the guards, no wrap-up: the old stop. */
  nextCall(budget: Budget, requestBytes: number): BudgetDecision {
    const decision = budget.decide(Date.now(), requestBytes);
    return decision.next !== 'call' && !this.guarded ? budget.legacyDecision(Date.now()) : decision;
  }

  /** A repetition the turn reacts to (warns, then ends stuck), if `found` is one and the run has the guards. */
  repetition<T>(found: T | undefined): T | undefined {
    return found && this.guarded ? found : undefined;
  }

  /** Whether `count` empty answers in a row fail the run (`ModelNoAnswer`). */
  tooManyEmptyAnswers(count: number): boolean {
    return count >= MAX_EMPTY_ANSWERS && this.guarded;
  }

  /** How many of an answer's `count` tool calls run, under the cap `max`. */
  toolCallCap(count: number, max: number): number {
    return count > max && this.guarded ? max : count;
  }
}

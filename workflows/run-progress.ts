/**
 * What a run has done so far: steps taken (model calls) and usage spent, its own and, for a run with
 * sub-agents, its sub-agents' (as their runs report it while they go, then as their results say).
 * Its one owner is the run's state (run-state.ts); a turn adds to it through `nextStep` and `spend`,
 * sub-agent calls through `childSpent` and `childSettled`; queries and the status report read it.
 */
import type { ModelCallResult } from '../activities';
import type { Usage } from '../src/types';
import { addUsage, sumUsage, ZERO_USAGE } from './budget';

export class RunProgress {
  /** The latest usage each sub-agent call in flight reported, by call id. */
  private readonly inFlight = new Map<string, Usage>();

  constructor(
    public step = 0,
    /** This run's own model calls. */
    public ownUsage: Usage = ZERO_USAGE,
    /** The sub-agent calls that ended (carried across continue-as-new); absent until one did. */
    public settledSubAgentUsage?: Usage,
  ) {}

  /** Usage of the run's whole tree: its own, unchanged for a run without sub-agents. */
  get usage(): Usage {
    let total = this.settledSubAgentUsage ? sumUsage(this.ownUsage, this.settledSubAgentUsage) : this.ownUsage;
    for (const used of this.inFlight.values()) total = sumUsage(total, used);
    return total;
  }

  /** A model call begins; returns its step. */
  nextStep(): number {
    return (this.step += 1);
  }

  /** A model call answered: its tokens and cost are spent. */
  spend(response: ModelCallResult): void {
    this.ownUsage = addUsage(this.ownUsage, response);
  }

  /** The sub-agent of call `callId` reported its tree's usage so far. */
  childSpent(callId: string, usage: Usage): void {
    this.inFlight.set(callId, usage);
  }

  /** The sub-agent of call `callId` ended, having spent `usage` (its last report when its result says none). */
  childSettled(callId: string, usage: Usage | undefined): void {
    const spent = usage ?? this.inFlight.get(callId);
    this.inFlight.delete(callId);
    if (spent) {
      this.settledSubAgentUsage = this.settledSubAgentUsage ? sumUsage(this.settledSubAgentUsage, spent) : spent;
    }
  }
}

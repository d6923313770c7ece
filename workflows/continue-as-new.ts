/**
 * When a run hands itself to its continuation (same workflow id, fresh history), and what it carries:
 * between two steps of a turn, while approvals wait, or idle between turns, once its history grows
 * long; never while a caller waits on an update (a `chat` for this turn's answer), which cannot be
 * carried. The one owner of that decision: turns receive it (`during`), the loop asks it.
 */
import { allHandlersFinished, condition, continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { AgentRunInput } from '../src/input';
import { RunStatus } from '../src/types';
import { serializedBytes } from '../src/validation';
import type { CarriedState } from './carried-state';
import { ensureHistoryRoom, historyAtLimit, historyIsLong } from './history-size';
import type { QueuedMessage } from './inbox';
import { hasPatch, Patch } from './patch-checks';
import { ensurePayloadFits } from './run-failures';
import type { RunSetup } from './run-setup';
import type { RunState } from './run-state';
import type { PendingStep } from './tool-calls';
import type { TurnContinuation, TurnMemory } from './turn';

export class ContinueAsNewPolicy {
  constructor(
    private readonly run: RunState,
    private readonly setup: RunSetup,
    /** The run's first argument, as given: a continuation gets it again. */
    private readonly rawInput: AgentRunInput,
  ) {}

  /**
   * Whether the run should stop where it is to continue as new (no caller waits on an update), or
   * to fail `HistoryLimit` (history is at its limit): what interrupts an approval wait.
   */
  mustStop(): boolean {
    const { spec, transcript } = this.setup;
    return (historyIsLong(spec, transcript.bytes) && allHandlersFinished()) || historyAtLimit(spec);
  }

  /** The policy for the turn answering `answering`, as the turn sees it. */
  during(answering: QueuedMessage): TurnContinuation {
    return {
      beforeStep: (memory) => this.beforeStep(answering, memory),
      awaitingApproval: (memory) => this.awaitingApproval(answering, memory),
    };
  }

  /**
   * Between turns, with no message waiting: when Temporal suggests continuing, continues as new once
   * the last turn's `chat` has returned; returns if a message arrived meanwhile (it is answered first).
   */
  async whenIdle(): Promise<void> {
    if (!workflowInfo().continueAsNewSuggested) return;
    await condition(() => allHandlersFinished() || this.run.inbox.size > 0);
    if (!this.run.inbox.size) await this.continueNow();
  }

  /**
   * Between two steps of a turn: a run whose history grew long continues as new here, carrying the
   * turn (the promise of that); undefined when the run goes on here.
   */
  private beforeStep(answering: QueuedMessage, memory: TurnMemory): Promise<never> | undefined {
    const { spec, transcript } = this.setup;
    if (
      historyIsLong(spec, transcript.compact()) &&
      allHandlersFinished() &&
      hasPatch(spec, Patch.continueAsNewMidTurn)
    ) {
      return this.continueNow({ ...memory, message: answering.text });
    }
    ensureHistoryRoom(spec);
    return undefined;
  }

  /**
   * The step's approval waits were interrupted: continue as new carrying them (with any decision
   * that came meanwhile), or fail `HistoryLimit`; if neither is due any more, the step waits on here.
   */
  private async awaitingApproval(
    answering: QueuedMessage,
    { pendingStep, ...memory }: TurnMemory & { pendingStep: PendingStep },
  ): Promise<void> {
    const { spec, transcript } = this.setup;
    if (historyIsLong(spec, transcript.compact()) && allHandlersFinished()) {
      const stepPrefix = `${pendingStep.step}.`;
      const approvalsCarried = pendingStep.approvals.map((approval) => {
        const decision = this.run.approvals.decisionOn(`${stepPrefix}${approval.index + 1}`);
        return decision ? { ...approval, decision } : approval;
      });
      await this.continueNow({
        ...memory,
        pendingStep: { ...pendingStep, approvals: approvalsCarried },
        message: answering.text,
      });
    }
    ensureHistoryRoom(spec);
  }

  /**
   * Hands the run to its continuation: the transcript, totals, what the budget learned, the
   * messages not yet answered, and the turn it is in, if any.
   */
  async continueNow(turnInProgress?: CarriedState['turn']): Promise<never> {
    const { run, setup } = this;
    setup.transcript.compact();
    const queued = run.inbox.drain();
    const steering = run.inbox.pendingSteering();
    const next: CarriedState = {
      // The run's own spec (its limits are the run's); the agent a handoff passed it to goes on apart.
      spec: run.spec!,
      ...(run.handedTo && { handedTo: run.handedTo }),
      messages: run.messages,
      step: run.progress.step,
      usage: run.progress.ownUsage,
      ...(run.progress.settledSubAgentUsage && { subAgentUsage: run.progress.settledSubAgentUsage }),
      lastAnswer: run.lastAnswer,
      ...(run.lastOutput && { lastOutput: run.lastOutput }),
      startedAtMs: run.startedAtMs,
      budget: setup.budget.memory(),
      ...(queued.length && { queued }),
      ...(steering.length && { steering }),
      ...(run.inbox.ending && { ending: true }),
      ...(turnInProgress && { turn: turnInProgress }),
    };
    ensurePayloadFits('the continue-as-new input', serializedBytes([this.rawInput, next]));
    // This run's own status stays truthful in `list` and the Web UI; the continuation reports its own.
    run.status.setPhase(RunStatus.continued);
    return await continueAsNew(this.rawInput, next);
  }
}

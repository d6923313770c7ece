/**
 * `agentRun`: one agent run as a deterministic loop. Every model call and tool call is an activity,
 * so the event history is the run's checkpoint and any worker continues it after a crash.
 *
 * This file is the wiring and the loop. The run's state is `RunState` (run-state.ts), its setup
 * run-setup.ts, the decision to continue as new `ContinueAsNewPolicy` (continue-as-new.ts), one turn
 * `runTurn` (turn.ts), a handoff to another agent `AgentHandoffs` (agent-handoffs.ts).
 */
import { condition, ContinueAsNew, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import { approvalUpdate, chatUpdate, endSignal, enqueueUpdate, messageSignal, stateQuery } from '../src/contract';
import { DEFAULT_IDLE_TIMEOUT_SECONDS } from '../src/defaults';
import type { AgentRunInput } from '../src/input';
import { LimitName, RunMode, RunStatus } from '../src/types';
import { AgentHandoffs } from './agent-handoffs';
import { acceptCarriedState, type CarriedState } from './carried-state';
import { ContinueAsNewPolicy } from './continue-as-new';
import type { QueuedMessage } from './inbox';
import { hasPatch, Patch } from './patch-checks';
import { acceptSteering } from './mid-turn-steering';
import { ensureProvenContinuation } from './proven-continuation';
import { failureWithUsage, invalidInput } from './run-failures';
import { acceptInput, listMcpToolsForTurn, setUpRun, startRun, type RunSetup } from './run-setup';
import { RunState, type RunResult } from './run-state';
import { handleTreeSignals } from './sub-agent-tree';
import { runTurn, type LimitOutcome, type StuckOutcome, type TurnContext, type TurnMemory } from './turn';

export async function agentRun(rawInput: AgentRunInput, carriedInput?: CarriedState): Promise<RunResult> {
  const run = new RunState(acceptInput(rawInput), acceptCarriedState(carriedInput));
  const { inbox, approvals, status } = run;

  setHandler(stateQuery, () => run.snapshot());
  setHandler(messageSignal, (message) => inbox.receive(message));
  setHandler(endSignal, () => inbox.end());
  setHandler(chatUpdate, (message) => inbox.chat(message), { validator: (message) => inbox.validateMessage(message) });
  setHandler(enqueueUpdate, (message) => inbox.enqueue(message), {
    validator: (message) => inbox.validateMessage(message),
  });
  acceptSteering(inbox);
  setHandler(approvalUpdate, (decision) => approvals.decide(decision), {
    validator: (decision) => approvals.validate(decision),
  });
  handleTreeSignals(run.subAgentTree, approvals);

  status.identify(run.input.agent, run.input.userId);

  try {
    if (run.carried) await ensureProvenContinuation(invalidInput);
    const setup = setUpRun(run, await startRun(run));
    const policy = new ContinueAsNewPolicy(run, setup, rawInput);

    /** Answers one message (or goes on with the turn a predecessor carried); a result when the run ends with it. */
    async function answer(next: QueuedMessage, resume?: TurnMemory): Promise<RunResult | undefined> {
      if (!resume) {
        run.messages.push({ role: 'user', content: next.text });
        if (run.input.mode === RunMode.session) setup.budget.startTurn(Date.now());
        await listMcpToolsForTurn(setup);
      }
      const outcome = await runTurn(turnContext(run, setup, policy), policy.during(next), resume);
      inbox.answer(next, outcome.output ?? outcome.answer);
      if ('stuck' in outcome || 'limit' in outcome) {
        if (endsRun(run, setup, outcome)) return await run.endEarly(outcome);
        // The session goes on: its next turn's model reads why this one stopped.
        if ('stuck' in outcome) run.messages.push({ role: 'assistant', content: outcome.answer });
      }
      run.answered(outcome);
      return undefined;
    }

    if (run.carried?.turn) {
      const { message, ...memory } = run.carried.turn;
      const ended = await answer({ text: message }, memory);
      if (ended) return ended;
    }
    const idleTimeoutMs = (run.input.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;
    for (;;) {
      if (!inbox.size) {
        if (run.input.mode === RunMode.task || inbox.ending) break;
        await policy.whenIdle();
        if (inbox.size) continue;
        status.setPhase(RunStatus.awaitingInput);
        const wakesForHistory = hasPatch(setup.spec, Patch.idleWaitWakesForContinueAsNew);
        const lifetimeLeftMs = (setup.budget.lifetimeDeadlineMs() ?? Infinity) - Date.now();
        const woke = await condition(
          () => inbox.size > 0 || inbox.ending || (wakesForHistory && workflowInfo().continueAsNewSuggested),
          Math.max(1, Math.min(idleTimeoutMs, lifetimeLeftMs)),
          { summary: 'idle timeout · waiting for the next message' },
        );
        if (!woke && lifetimeLeftMs <= idleTimeoutMs) {
          return await run.finish({
            status: RunStatus.limitReached,
            limit: LimitName.maxDurationSeconds,
            output: run.lastResultOutput(),
          });
        }
        if (!woke) break;
        if (!inbox.size && !inbox.ending) continue;
        if (!inbox.size) break;
      }
      // Messages queued before `end` are answered first (runs started before that ended at once).
      if (inbox.ending && !hasPatch(setup.spec, Patch.answerMessagesQueuedBeforeEnd)) break;
      const ended = await answer(inbox.take()!);
      if (ended) return ended;
    }
    return await run.finish({ status: RunStatus.completed, output: run.lastResultOutput() });
  } catch (error) {
    // continueAsNew ends this run by throwing; the run goes on in the next one.
    if (error instanceof ContinueAsNew) throw error;
    run.end(isCancellation(error) ? RunStatus.cancelled : RunStatus.failed);
    throw run.input.subAgent ? failureWithUsage(error, run.progress.usage) : error;
  }
}

/**
 * Whether a turn's outcome ends the run: a stuck model or a run's budget. In a session, a budget of
 * one turn ends only the turn (its wrap-up is the reply), and so does a stuck turn.
 */
function endsRun(run: RunState, setup: RunSetup, outcome: LimitOutcome | StuckOutcome): boolean {
  if (run.input.mode === RunMode.task) return true;
  if ('limit' in outcome) return outcome.lifetime === true;
  return !hasPatch(setup.spec, Patch.stuckSessionTurnEndsTurn);
}

/**
 * What a turn of the run works with (the tools offered as the turn's start listed them); what is its
 * agent's is read from `setup` at each use: a handoff changes it.
 */
function turnContext(run: RunState, setup: RunSetup, policy: ContinueAsNewPolicy): TurnContext {
  return {
    get spec() {
      return setup.spec;
    },
    limits: setup.limits,
    messages: run.messages,
    get modelTools() {
      return setup.modelTools;
    },
    progress: run.progress,
    get budget() {
      return setup.budget;
    },
    status: run.status,
    get tools() {
      return {
        spec: setup.spec,
        approvals: run.approvals,
        approvalTimeoutMs: (run.input.approvalTimeoutSeconds ?? setup.spec.approvalTimeoutSeconds) * 1000,
        memoryUserId: setup.memoryId,
        interruptsApprovalWait: () => policy.mustStop(),
        subAgents: setup.subAgents,
      };
    },
    requestBytes: () => setup.transcript.compact() + setup.toolsBytes,
    takeSteering: () => run.inbox.takeSteering(),
    transcripts: setup.transcripts,
    handoffs: new AgentHandoffs(run, setup),
  };
}

/**
 * One turn of a run: model calls and tool calls, from a user message to the answer, within the
 * budgets, watching for a model that repeats itself.
 */
import type { ModelTool } from '../activities';
import { DEFAULT_MAX_REPEATS, DEFAULT_MAX_TOOL_CALLS_PER_TURN, MAX_EMPTY_ANSWERS } from '../src/defaults';
import { RunStatus, type AgentSpec, type ChatMessage, type Limits, type ToolCall, type Usage } from '../src/types';
import { addUsage, type Budget, type SpentLimit } from './budget';
import { fitContextWindow } from './context-window';
import { ensurePayloadFits, noAnswer } from './run-failures';
import {
  EMPTY_ANSWER_NUDGE,
  REPEATED_CALL_NOT_RUN,
  repetitionWarning,
  stuckOutput,
  unfinishedOutput,
  wrapUpInstruction,
} from './guidance';
import { callModel } from './activities';
import { callModelWithFallback } from './model-calls';
import { hasLoopGuards } from './patch-checks';
import type { StatusReport } from './status-report';
import { RepetitionGuard, type GuardMemory, type Repetition } from './stuck';
import { runToolCalls, type PendingStep, type ToolCallContext } from './tool-calls';
import { toolErrorMessage } from './tool-messages';
import type { TranscriptSender } from './transcript-sender';

/** What the run has done so far; a turn adds to it, the `state` query and the status report read it. */
export interface RunProgress {
  step: number;
  usage: Usage;
}

/** A budget ended the turn: the answer is the wrap-up's, or says what was and was not done. */
export type LimitOutcome = { answer: string } & SpentLimit;
/** The model kept repeating `stuck` after being told; the answer says so. */
export type StuckOutcome = { answer: string; stuck: string };
/** How a turn ended, with the text that answers its message. */
export type TurnOutcome = { answer: string } | LimitOutcome | StuckOutcome;

export interface TurnContext {
  spec: AgentSpec;
  limits: Limits;
  /** The transcript, whose last message is the one this turn answers. */
  messages: ChatMessage[];
  modelTools: ModelTool[];
  progress: RunProgress;
  budget: Budget;
  status: StatusReport;
  tools: Omit<ToolCallContext, 'deadlineMs'>;
  /** Compacts the transcript; returns the size of a model request over it, in bytes. */
  requestBytes(): number;
  transcripts: TranscriptSender;
  /**
   * Called before each step of the turn but its first in this run, with what the turn has seen so
   * far: the run may continue as new here (it then throws), carrying it.
   */
  beforeStep(memory: TurnMemory): Promise<void>;
  /**
   * Called when the step's approval waits were interrupted because history grew long: the run
   * continues as new here (it throws), carrying the turn and the step; or, when it cannot, returns
   * and the step goes on waiting in this run.
   */
  continueAwaitingApproval(memory: TurnMemory & { pendingStep: PendingStep }): Promise<void>;
}

/** Where a turn is, as plain JSON: a turn cut by continue-as-new goes on from it in the continuation. */
export interface TurnMemory {
  /** Index in the transcript of the message the turn answers. */
  start: number;
  guard: GuardMemory;
  warned: boolean;
  emptyAnswers: number;
  /** A step whose calls still wait for approval, to finish before the next step. */
  pendingStep?: PendingStep;
}

/** Model and tools until the model answers, a budget ends the turn, or the model is stuck. */
export async function runTurn(turn: TurnContext, resume?: TurnMemory): Promise<TurnOutcome> {
  const { spec, limits, messages, progress, budget, status } = turn;
  const { maxRepeats = DEFAULT_MAX_REPEATS, maxToolCallsPerTurn = DEFAULT_MAX_TOOL_CALLS_PER_TURN } = limits;
  let turnStart = resume?.start ?? messages.length - 1;
  const doneSoFar = () => messages.slice(turnStart);
  const guard = new RepetitionGuard(maxRepeats, resume?.guard);
  let warned = resume?.warned ?? false;
  let emptyAnswers = resume?.emptyAnswers ?? 0;
  let firstStep = true;
  const memory = (): TurnMemory => ({ start: turnStart, guard: guard.memory(), warned, emptyAnswers });
  /** After a repetition: one warning; the second time, the turn ends stuck. */
  const onRepetition = (repetition: Repetition): TurnOutcome | undefined => {
    if (warned) return { stuck: repetition.description, answer: stuckOutput(repetition.description, doneSoFar()) };
    warned = true;
    messages.push(repetitionWarning(repetition.description));
    return undefined;
  };
  /**
   * Runs the tool calls of a step (or finishes those a continued run carried) and reads their
   * results; the turn's outcome if that ends it.
   */
  const runStepTools = async (
    calls: ToolCall[],
    cap: number,
    step: number,
    deadlineMs: number | undefined,
    pending?: PendingStep,
  ): Promise<TurnOutcome | undefined> => {
    let outcome = await runToolCalls(calls, step, { ...turn.tools, deadlineMs }, cap, pending);
    while (!Array.isArray(outcome)) {
      await turn.continueAwaitingApproval({ ...memory(), pendingStep: outcome });
      outcome = await runToolCalls(calls, step, { ...turn.tools, deadlineMs }, cap, outcome);
    }
    messages.push(...outcome);
    const stale = guard.observeResults(
      calls.slice(0, cap),
      outcome.slice(0, cap).map((result) => result.content ?? ''),
    );
    return stale && hasLoopGuards(spec) ? onRepetition(stale) : undefined;
  };
  if (resume?.pendingStep) {
    const { step, cap, deadlineMs } = resume.pendingStep;
    const calls = (messages.at(-1) as Extract<ChatMessage, { role: 'assistant' }>).tool_calls ?? [];
    const ended = await runStepTools(calls, cap, step, deadlineMs, resume.pendingStep);
    if (ended) return ended;
  }
  for (;;) {
    if (!firstStep) await turn.beforeStep(memory());
    firstStep = false;
    turnStart = await fitContextWindow(turn, turnStart);
    const requestBytes = turn.requestBytes();
    let decision = budget.decide(Date.now(), requestBytes);
    if (decision.next !== 'call' && !hasLoopGuards(spec)) decision = budget.legacyDecision(Date.now());
    if (decision.next === 'stop') return { ...decision, answer: unfinishedOutput(decision, limits, doneSoFar()) };
    const wrapUp = decision.next === 'wrapUp' ? decision : undefined;
    if (wrapUp) messages.push(wrapUpInstruction(wrapUp.limit));
    progress.step += 1;
    status.setPhase(RunStatus.running);
    ensurePayloadFits(`the model call of step ${progress.step}`, wrapUp ? turn.requestBytes() : requestBytes);
    const calledAtMs = Date.now();
    const step = progress.step;
    const outcome = await callModelWithFallback(
      spec,
      messages,
      (model, carrier, options) =>
        callModel(
          spec,
          {
            model,
            step,
            tools: turn.modelTools,
            ...carrier,
            ...(wrapUp && { toolChoice: 'none' as const }),
            ...(decision.maxOutputTokens !== undefined && { maxOutputTokens: decision.maxOutputTokens }),
          },
          options,
        ),
      { transcripts: turn.transcripts, deadlineMs: decision.deadlineMs },
    );
    if ('deadline' in outcome) {
      // The budget decides what comes next: the wrap-up, or (after the wrap-up's own deadline) nothing.
      if (!wrapUp) continue;
      return { ...wrapUp, answer: unfinishedOutput(wrapUp, limits, doneSoFar()) };
    }
    const { response } = outcome;
    progress.usage = addUsage(progress.usage, response);
    budget.record(response, requestBytes, Date.now() - calledAtMs);
    status.reportUsage(progress.step, progress.usage);
    const answer = response.message.content?.trim();
    if (wrapUp) {
      // No tool runs after a wrap-up, whatever the model asked for.
      messages.push({ role: 'assistant', content: response.message.content });
      return { ...wrapUp, answer: answer || unfinishedOutput(wrapUp, limits, doneSoFar()) };
    }
    messages.push(response.message);
    const calls = response.message.tool_calls ?? [];
    if (!calls.length) {
      if (answer) return { answer };
      emptyAnswers += 1;
      if (emptyAnswers >= MAX_EMPTY_ANSWERS && hasLoopGuards(spec)) throw noAnswer(emptyAnswers);
      messages.push(EMPTY_ANSWER_NUDGE);
      continue;
    }
    emptyAnswers = 0;
    const cap = calls.length > maxToolCallsPerTurn && hasLoopGuards(spec) ? maxToolCallsPerTurn : calls.length;
    const repeated = guard.observeCalls(calls.slice(0, cap));
    if (repeated && hasLoopGuards(spec)) {
      messages.push(...calls.map((call) => toolErrorMessage(call.id, REPEATED_CALL_NOT_RUN)));
      const ended = onRepetition(repeated);
      if (ended) return ended;
      continue;
    }
    const ended = await runStepTools(calls, cap, progress.step, decision.deadlineMs);
    if (ended) return ended;
  }
}

/**
 * One turn of a run: model calls and tool calls, from a user message to the answer, within the
 * budgets, watching for a model that repeats itself.
 */
import { log } from '@temporalio/workflow';
import type { ModelCallResult, ModelTool } from '../activities';
import { describeFailure } from '../src/failures';
import { DEFAULT_MAX_REPEATS, DEFAULT_MAX_TOOL_CALLS_PER_TURN } from '../src/defaults';
import {
  RunStatus,
  type AgentSpec,
  type ChatMessage,
  type Limits,
  type StructuredOutput,
  type ToolCall,
} from '../src/types';
import type { Budget, BudgetDecision, SpentLimit } from './budget';
import { fitContextWindow, shortenRefusedRequest } from './context-window';
import { ensurePayloadFits, noAnswer, runFailure } from './run-failures';
import {
  EMPTY_ANSWER_NUDGE,
  REPEATED_CALL_NOT_RUN,
  repetitionWarning,
  stuckOutput,
  unfinishedOutput,
  UNPARSED_WRAP_UP,
  unparsedOutput,
  wrapUpInstruction,
} from './guidance';
import { callModel } from './activities';
import { callModelWithFallback, type ModelCallOutcome } from './model-calls';
import { LoopGuardRules } from './loop-guard-rules';
import type { RunProgress } from './run-progress';
import type { StatusReport } from './status-report';
import { RepetitionGuard, type GuardMemory, type Repetition } from './stuck';
import { StructuredAnswers } from './structured-answer';
import { runToolCalls, type PendingStep, type ToolCallContext } from './tool-calls';
import { notRunMessage } from './tool-messages';
import type { TranscriptSender } from './transcript-sender';

/**
 * The text that answers a turn's message; with an output schema, the object too (`output`), or why
 * there is none (`outputError`: a budget or a stuck loop ended the turn first).
 */
export interface TurnAnswer {
  answer: string;
  output?: StructuredOutput;
  outputError?: string;
}
/** A budget ended the turn: the answer is the wrap-up's, or says what was and was not done. */
export type LimitOutcome = TurnAnswer & SpentLimit;
/** The model kept repeating `stuck` after being told; the answer says so. */
export type StuckOutcome = TurnAnswer & { stuck: string };
/** How a turn ended, with what answers its message. */
export type TurnOutcome = TurnAnswer | LimitOutcome | StuckOutcome;

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
  /** The `steer` messages that arrived since the last step, taken: they join the turn before its next model call. */
  takeSteering(): string[];
  transcripts: TranscriptSender;
  /**
   * Hands the run to another agent when an answer asks for it (`AgentHandoffs`, agent-handoffs.ts):
   * then the answer's tool messages; undefined, at once, for an answer that runs its tools.
   */
  handoffs: {
    transfer(calls: ToolCall[], cap: number, turnSoFar: readonly ChatMessage[]): Promise<ChatMessage[]> | undefined;
  };
}

/**
 * Where a turn may hand the run to its continuation (the run's continue-as-new policy, for the
 * message the turn answers): each method returns when the run goes on here, and throws when it
 * continues as new, carrying the turn.
 */
export interface TurnContinuation {
  /**
   * Before each step of the turn but its first in this run, with what the turn has seen so far:
   * undefined when the step goes on at once (a promise costs every step a stack trace, which the
   * SDK takes of each promise a workflow makes).
   */
  beforeStep(memory: TurnMemory): Promise<never> | undefined;
  /**
   * The step's approval waits were interrupted because history grew long: continue as new carrying
   * the turn and the step, or, when it cannot, return so that the step goes on waiting here.
   */
  awaitingApproval(memory: TurnMemory & { pendingStep: PendingStep }): Promise<void>;
}

/** Where a turn is, as plain JSON: a turn cut by continue-as-new goes on from it in the continuation. */
export interface TurnMemory {
  /** Index in the transcript of the message the turn answers. */
  start: number;
  guard: GuardMemory;
  warned: boolean;
  emptyAnswers: number;
  /** Answers sent back for not fitting the output schema (absent: none, or no schema). */
  outputRepairs?: number;
  /** A step whose calls still wait for approval, to finish before the next step. */
  pendingStep?: PendingStep;
}

/** Model and tools until the model answers, a budget ends the turn, or the model is stuck. */
export function runTurn(turn: TurnContext, continuation: TurnContinuation, resume?: TurnMemory): Promise<TurnOutcome> {
  return new Turn(turn, continuation, resume).run();
}

/** One turn in progress: where it started, what the stuck-loop guard has seen, the warnings given. */
class Turn {
  /** Index in the transcript of the message the turn answers (summaries move it). */
  private start: number;
  private readonly guard: RepetitionGuard;
  private readonly rules: LoopGuardRules;
  private warned: boolean;
  private emptyAnswers: number;
  /** The agent's output schema in this turn, if it has one. */
  private readonly structured: StructuredAnswers | undefined;

  constructor(
    private readonly turn: TurnContext,
    private readonly continuation: TurnContinuation,
    private readonly resume: TurnMemory | undefined,
  ) {
    this.start = resume?.start ?? turn.messages.length - 1;
    this.guard = new RepetitionGuard(turn.limits.maxRepeats ?? DEFAULT_MAX_REPEATS, resume?.guard);
    this.rules = new LoopGuardRules(turn.spec);
    this.warned = resume?.warned ?? false;
    this.emptyAnswers = resume?.emptyAnswers ?? 0;
    const { output } = turn.spec;
    this.structured = output && new StructuredAnswers(output, turn.limits, resume?.outputRepairs);
  }

  async run(): Promise<TurnOutcome> {
    const outcome = await this.steps();
    return this.structured ? this.structured.settle(outcome) : outcome;
  }

  private async steps(): Promise<TurnOutcome> {
    const pending = this.resume?.pendingStep;
    if (pending) {
      const calls = (this.turn.messages.at(-1) as Extract<ChatMessage, { role: 'assistant' }>).tool_calls ?? [];
      const ended = await this.runStepTools(calls, pending.cap, pending.step, pending.deadlineMs, pending);
      if (ended) return ended;
    }
    for (let first = true; ; first = false) {
      const continuing = first ? undefined : this.continuation.beforeStep(this.memory());
      if (continuing) await continuing;
      const ended = await this.step();
      if (ended) return ended;
    }
  }

  private memory(): TurnMemory {
    const { start, guard, warned, emptyAnswers, structured } = this;
    return {
      start,
      guard: guard.memory(),
      warned,
      emptyAnswers,
      ...(structured?.repairs && { outputRepairs: structured.repairs }),
    };
  }

  /** What the turn has added to the transcript so far. */
  private doneSoFar(): ChatMessage[] {
    return this.turn.messages.slice(this.start);
  }

  /** One step: the budget's say, a model call, then what its answer asks for; the turn's outcome when it ends. */
  private async step(): Promise<TurnOutcome | undefined> {
    const { turn } = this;
    const { limits, messages, progress, budget, status } = turn;
    // Steering joins here, once the calls in flight have finished: the model's next request reads it.
    for (const text of turn.takeSteering()) messages.push({ role: 'user', content: text });
    const fitted = fitContextWindow(turn, this.start);
    this.start = typeof fitted === 'number' ? fitted : await fitted;
    const requestBytes = turn.requestBytes();
    const decision = this.rules.nextCall(budget, requestBytes);
    if (decision.next === 'stop') return { ...decision, answer: unfinishedOutput(decision, limits, this.doneSoFar()) };
    const wrapUp = decision.next === 'wrapUp' ? decision : undefined;
    if (wrapUp)
      messages.push(wrapUpInstruction(wrapUp.limit), ...(this.structured ? [this.structured.wrapUpNote()] : []));
    const step = progress.nextStep();
    status.setPhase(RunStatus.running);
    ensurePayloadFits(`the model call of step ${step}`, wrapUp ? turn.requestBytes() : requestBytes);
    const calledAtMs = Date.now();
    const { outcome, shortened } = await this.askModel(step, decision, wrapUp !== undefined);
    if ('deadline' in outcome) {
      // The budget decides what comes next: the wrap-up, or (after the wrap-up's own deadline) nothing.
      if (!wrapUp) return undefined;
      return { ...wrapUp, answer: unfinishedOutput(wrapUp, limits, this.doneSoFar()) };
    }
    if ('unparsed' in outcome) {
      if (wrapUp) throw runFailure(outcome.failure);
      return this.answerWithoutTools(outcome.failure);
    }
    const { response } = outcome;
    progress.spend(response);
    budget.record(response, shortened ? turn.requestBytes() : requestBytes, Date.now() - calledAtMs);
    status.reportUsage(step, progress.usage);
    if (wrapUp) {
      // No tool runs after a wrap-up, whatever the model asked for.
      messages.push({ role: 'assistant', content: response.message.content });
      const answer = response.message.content?.trim();
      return { ...wrapUp, answer: answer || unfinishedOutput(wrapUp, limits, this.doneSoFar()) };
    }
    messages.push(response.message);
    return this.onAnswer(response.message, step, decision.deadlineMs);
  }

  /**
   * The step's model call; a request the server refused as past the context window is shortened and
   * sent once more (`shortened`), and fails the run `ModelBadRequest` if it cannot be or is refused again.
   */
  private async askModel(
    step: number,
    decision: Exclude<BudgetDecision, { next: 'stop' }>,
    wrapUp: boolean,
  ): Promise<{ outcome: Exclude<ModelCallOutcome, { contextExceeded: unknown }>; shortened: boolean }> {
    const first = await this.callModel(step, decision, wrapUp);
    if (!('contextExceeded' in first)) return { outcome: first, shortened: false };
    const shortening = await shortenRefusedRequest(this.turn, this.start, step, first.contextExceeded);
    this.start = shortening.turnStart;
    if (!shortening.shortened) throw runFailure(first.failure);
    const again = await this.callModel(step, decision, wrapUp);
    if ('contextExceeded' in again) throw runFailure(again.failure);
    return { outcome: again, shortened: true };
  }

  /**
   * The model server could not parse what the model wrote, each time the step asked: one more call,
   * without tools, for an answer from what the run has, within the budgets (a step of its own). The
   * turn ends with that answer; the run fails `ModelOutputUnparsed` only if it cannot be parsed either.
   */
  private async answerWithoutTools(failure: unknown): Promise<TurnOutcome> {
    const { limits, messages, progress, budget, status } = this.turn;
    log.warn('the model server could not parse the model output; asking for an answer without tools', {
      step: progress.step,
      failure: describeFailure(failure).message,
    });
    const decision = this.rules.nextCall(budget, this.turn.requestBytes());
    if (decision.next === 'stop') return { ...decision, answer: unfinishedOutput(decision, limits, this.doneSoFar()) };
    messages.push(UNPARSED_WRAP_UP);
    const step = progress.nextStep();
    const requestBytes = this.turn.requestBytes();
    ensurePayloadFits(`the model call of step ${step}`, requestBytes);
    const calledAtMs = Date.now();
    const outcome = await this.callModel(step, decision, true, []);
    if ('unparsed' in outcome || 'contextExceeded' in outcome) throw runFailure(outcome.failure);
    if ('deadline' in outcome) return { answer: unparsedOutput(this.doneSoFar()) };
    const { response } = outcome;
    progress.spend(response);
    budget.record(response, requestBytes, Date.now() - calledAtMs);
    status.reportUsage(step, progress.usage);
    messages.push({ role: 'assistant', content: response.message.content });
    const answer = response.message.content?.trim();
    return { answer: answer || unparsedOutput(this.doneSoFar()) };
  }

  /**
   * The step's model call (a wrap-up calls no tool and may be capped; `tools`: those offered, the
   * agent's unless said), with its fallbacks.
   */
  private callModel(
    step: number,
    decision: Exclude<BudgetDecision, { next: 'stop' }>,
    wrapUp: boolean,
    tools?: ModelTool[],
  ): Promise<ModelCallOutcome> {
    const { spec, modelTools, messages, transcripts } = this.turn;
    const structured = this.structured?.callOptions();
    return callModelWithFallback(
      spec,
      messages,
      (model, carrier, options) =>
        callModel(
          spec,
          {
            model,
            step,
            tools: tools ?? (structured ? [...modelTools, ...structured.tools] : modelTools),
            ...carrier,
            ...(structured?.responseFormat && { responseFormat: structured.responseFormat }),
            ...(wrapUp && { toolChoice: 'none' as const }),
            ...(decision.maxOutputTokens !== undefined && { maxOutputTokens: decision.maxOutputTokens }),
          },
          options,
        ),
      { transcripts, deadlineMs: decision.deadlineMs },
    );
  }

  /** What the model's answer of `step` asks for: the turn's answer, a nudge, or its tool calls run. */
  private async onAnswer(
    message: ModelCallResult['message'],
    step: number,
    deadlineMs: number | undefined,
  ): Promise<TurnOutcome | undefined> {
    const { messages, limits } = this.turn;
    const calls = message.tool_calls ?? [];
    const read = this.structured?.read(message);
    if (read && 'repair' in read) {
      messages.push(...read.repair);
      return undefined;
    }
    if (read) {
      messages.push(...read.messages);
      return { answer: read.answer, output: read.output };
    }
    if (!calls.length) {
      const answer = message.content?.trim();
      if (answer) return { answer };
      this.emptyAnswers += 1;
      if (this.rules.tooManyEmptyAnswers(this.emptyAnswers)) throw noAnswer(this.emptyAnswers);
      messages.push(EMPTY_ANSWER_NUDGE);
      return undefined;
    }
    this.emptyAnswers = 0;
    const cap = this.rules.toolCallCap(calls.length, limits.maxToolCallsPerTurn ?? DEFAULT_MAX_TOOL_CALLS_PER_TURN);
    const repeated = this.rules.repetition(this.guard.observeCalls(calls.slice(0, cap)));
    if (repeated) {
      messages.push(...calls.map((call) => notRunMessage(call.id, REPEATED_CALL_NOT_RUN)));
      return this.onRepetition(repeated);
    }
    return this.runStepTools(calls, cap, step, deadlineMs);
  }

  /** After a repetition: one warning; the second time, the turn ends stuck. */
  private onRepetition(repetition: Repetition): TurnOutcome | undefined {
    if (this.warned) {
      return { stuck: repetition.description, answer: stuckOutput(repetition.description, this.doneSoFar()) };
    }
    this.warned = true;
    this.turn.messages.push(repetitionWarning(repetition));
    return undefined;
  }

  /**
   * Runs the tool calls of a step (or finishes those a continued run carried) and reads their
   * results; the turn's outcome if that ends it.
   */
  private async runStepTools(
    calls: ToolCall[],
    cap: number,
    step: number,
    deadlineMs: number | undefined,
    pending?: PendingStep,
  ): Promise<TurnOutcome | undefined> {
    const context = { ...this.turn.tools, deadlineMs };
    // An answer that hands the run to another agent runs none of its tools (agent-handoffs.ts); any
    // other schedules them with no await before, as histories recorded it.
    const transfer = pending ? undefined : this.turn.handoffs.transfer(calls, cap, this.doneSoFar());
    let outcome = transfer ? await transfer : await runToolCalls(calls, step, context, cap, pending);
    while (!Array.isArray(outcome)) {
      await this.continuation.awaitingApproval({ ...this.memory(), pendingStep: outcome });
      outcome = await runToolCalls(calls, step, context, cap, outcome);
    }
    this.turn.messages.push(...outcome);
    const stale = this.guard.observeResults(
      calls.slice(0, cap),
      outcome.slice(0, cap).map((result) => result.content ?? ''),
    );
    const repetition = this.rules.repetition(stale);
    return repetition ? this.onRepetition(repetition) : undefined;
  }
}

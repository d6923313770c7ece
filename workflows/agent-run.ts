/**
 * `agentRun`: one agent run as a deterministic loop. Every model call and tool call is an activity,
 * so the event history is the run's checkpoint and any worker continues it after a crash.
 *
 * This file is the wiring and the loop; approvals, the inbox of user messages and the status report
 * each live in their own module.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  ContinueAsNew,
  isCancellation,
  log,
  patched,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { approvalUpdate, chatUpdate, endSignal, enqueueUpdate, messageSignal, stateQuery } from '../src/contract';
import {
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_REPEATS,
  DEFAULT_MAX_STEPS,
  DEFAULT_MAX_TOOL_CALLS_PER_TURN,
  MAX_EMPTY_ANSWERS,
} from '../src/defaults';
import { agentRunInputSchema, type AgentRunInput } from '../src/input';
import {
  LimitName,
  RunMode,
  RunStatus,
  type AgentRunResult,
  type AgentRunState,
  type AgentSpec,
  type ChatMessage,
  type Limits,
  type Usage,
} from '../src/types';
import { describeIssues, serializedBytes } from '../src/validation';
import { resolveAgentSpec } from './activities';
import { Approvals } from './approvals';
import { addUsage, Budget, budgetsOf, costBudgetPrice, ZERO_USAGE, type SpentLimit } from './budget';
import { acceptCarriedState, type CarriedState } from './continuation';
import { ensurePayloadFits, invalidInput, noAnswer, runFailure, unpricedModel } from './failures';
import {
  EMPTY_ANSWER_NUDGE,
  REPEATED_CALL_NOT_RUN,
  repetitionWarning,
  stuckOutput,
  unfinishedOutput,
  wrapUpInstruction,
} from './guidance';
import { Inbox } from './inbox';
import { callModelWithFallback } from './model-calls';
import { StatusReport } from './status-report';
import { RepetitionGuard, type Repetition } from './stuck';
import { runToolCalls } from './tool-calls';
import { toolErrorMessage } from './tool-messages';
import { compactTranscript } from './transcript';

/** A session that waits for input wakes to continue as new when history grows (runs started before wait out the idle timeout). */
const IDLE_WAIT_WAKES_FOR_CONTINUE_AS_NEW = 'idle-wait-wakes-for-continue-as-new';
/**
 * Stuck-loop detection, wrap-up calls, the tool-call cap, the empty-answer limit and the unpriced
 * cost budget check: runs whose history was written before them keep the loop they started with.
 */
const LOOP_GUARDS = 'loop-guards-and-wrap-ups';
/** A session answers the messages queued before `end` (runs started before ended at once). */
const ANSWER_MESSAGES_QUEUED_BEFORE_END = 'answer-messages-queued-before-end';

/** Whether this run has the loop guards (evaluated where a guard would change what the run does). */
function loopGuards(): boolean {
  return patched(LOOP_GUARDS);
}

/** How a turn ended: the model's answer, the answer a budget left (a wrap-up), or a stuck loop. */
type TurnOutcome = { answer: string } | ({ answer: string } & SpentLimit) | { stuck: string };

export async function agentRun(rawInput: AgentRunInput, carriedInput?: CarriedState): Promise<AgentRunResult> {
  const parsedInput = agentRunInputSchema.safeParse(rawInput);
  if (!parsedInput.success) throw invalidInput(describeIssues(parsedInput.error));
  const input = parsedInput.data;
  const carried = acceptCarriedState(carriedInput);
  const startedAtMs = carried?.startedAtMs ?? Date.now();
  let spec: AgentSpec | undefined = carried?.spec;
  const messages: ChatMessage[] = carried?.messages ?? [];
  let step = carried?.step ?? 0;
  let usage: Usage = carried?.usage ?? ZERO_USAGE;
  let lastAnswer = carried?.lastAnswer ?? '';

  const approvals = new Approvals(() => status.report());
  const status = new StatusReport(approvals, () => ({ step, usage }));
  // A continuation starts between turns with nothing queued; a new run starts with its first message.
  const inbox = new Inbox(input.mode, () => status.status, carried ? undefined : input.message);

  setHandler(stateQuery, (): AgentRunState => ({
    status: status.status,
    agent: input.agent,
    mode: input.mode,
    userId: input.userId,
    step,
    messages,
    usage,
    pendingApprovals: approvals.pending(),
    queuedMessages: inbox.size,
  }));
  setHandler(messageSignal, (message) => inbox.receive(message));
  setHandler(endSignal, () => inbox.end());
  setHandler(chatUpdate, (message) => inbox.chat(message), { validator: (message) => inbox.validateMessage(message) });
  setHandler(enqueueUpdate, (message) => inbox.enqueue(message), {
    validator: (message) => inbox.validateMessage(message),
  });
  setHandler(approvalUpdate, (decision) => approvals.decide(decision), {
    validator: (decision) => approvals.validate(decision),
  });

  status.identify(input.agent, input.userId);

  async function finish(result: Omit<AgentRunResult, 'steps' | 'usage'>): Promise<AgentRunResult> {
    inbox.close();
    status.setPhase(result.status);
    await condition(allHandlersFinished);
    return { ...result, steps: step, usage };
  }

  try {
    if (!spec) {
      try {
        spec = await resolveAgentSpec({ agent: input.agent, model: input.model, fallbackModels: input.fallbackModels });
      } catch (error) {
        throw runFailure(error);
      }
      messages.push({ role: 'system', content: spec.instructions });
    }
    const agentSpec: AgentSpec = spec;
    const limits: Limits = { maxSteps: DEFAULT_MAX_STEPS, ...agentSpec.limits, ...input.limits };
    const { maxRepeats = DEFAULT_MAX_REPEATS, maxToolCallsPerTurn = DEFAULT_MAX_TOOL_CALLS_PER_TURN } = limits;
    const price = costBudgetPrice(agentSpec, limits);
    if (price === 'unpriced' && loopGuards()) throw unpricedModel(agentSpec);
    const budget = new Budget(
      budgetsOf(limits),
      limits.lifetime ?? {},
      price === 'unpriced' ? undefined : price,
      () => ({
        steps: step,
        usage,
        startedAtMs,
      }),
    );
    const approvalTimeoutMs = (input.approvalTimeoutSeconds ?? agentSpec.approvalTimeoutSeconds) * 1000;
    const modelTools = agentSpec.tools.map(({ name, description, parameters }) => ({ name, description, parameters }));
    const toolsBytes = serializedBytes(modelTools);
    const transcriptMaxBytes = agentSpec.transcriptMaxBytes ?? agentSpec.transcriptMaxChars;
    /** Compacts the transcript to the spec's bound; returns its serialized size. */
    function compact(): number {
      if (!transcriptMaxBytes) return serializedBytes(messages);
      const { replaced, bytes } = compactTranscript(messages, transcriptMaxBytes);
      if (replaced) log.info('transcript compacted', { omittedMessages: replaced });
      return bytes;
    }

    /** Model and tools until the model answers, a budget ends the turn, or the model is stuck. */
    async function runTurn(): Promise<TurnOutcome> {
      const turnStart = messages.length - 1;
      const guard = new RepetitionGuard(maxRepeats);
      let warned = false;
      let emptyAnswers = 0;
      /** After a repetition: one warning, then the turn ends stuck. */
      const onRepetition = (repetition: Repetition): TurnOutcome | undefined => {
        if (warned) return { stuck: repetition.description };
        warned = true;
        messages.push(repetitionWarning(repetition.description));
        return undefined;
      };
      for (;;) {
        const requestBytes = compact() + toolsBytes;
        let decision = budget.decide(Date.now(), requestBytes);
        if (decision.next !== 'call' && !loopGuards()) decision = budget.legacyDecision(Date.now());
        if (decision.next === 'stop') {
          return { ...decision, answer: unfinishedOutput(decision.limit, limits, messages.slice(turnStart)) };
        }
        const wrapUp = decision.next === 'wrapUp' ? decision : undefined;
        if (wrapUp) messages.push(wrapUpInstruction(wrapUp.limit));
        step += 1;
        status.setPhase(RunStatus.running);
        ensurePayloadFits(`the model call of step ${step}`, wrapUp ? compact() + toolsBytes : requestBytes);
        const calledAtMs = Date.now();
        const outcome = await callModelWithFallback(
          agentSpec,
          {
            step,
            messages,
            tools: modelTools,
            ...(wrapUp && { toolChoice: 'none' as const }),
            ...(decision.maxOutputTokens !== undefined && { maxOutputTokens: decision.maxOutputTokens }),
          },
          decision.deadlineMs,
        );
        if ('deadline' in outcome) {
          if (!wrapUp) continue;
          return { ...wrapUp, answer: unfinishedOutput(wrapUp.limit, limits, messages.slice(turnStart)) };
        }
        const { response } = outcome;
        usage = addUsage(usage, response);
        budget.record(response, requestBytes, Date.now() - calledAtMs);
        status.reportUsage(step, usage);
        const answer = response.message.content?.trim();
        if (wrapUp) {
          // No tool runs after a wrap-up, whatever the model asked for.
          messages.push({ role: 'assistant', content: response.message.content });
          return { ...wrapUp, answer: answer || unfinishedOutput(wrapUp.limit, limits, messages.slice(turnStart)) };
        }
        messages.push(response.message);
        const calls = response.message.tool_calls ?? [];
        if (!calls.length) {
          if (answer) return { answer };
          emptyAnswers += 1;
          if (emptyAnswers >= MAX_EMPTY_ANSWERS && loopGuards()) throw noAnswer(emptyAnswers);
          messages.push(EMPTY_ANSWER_NUDGE);
          continue;
        }
        emptyAnswers = 0;
        const cap = calls.length > maxToolCallsPerTurn && loopGuards() ? maxToolCallsPerTurn : calls.length;
        const repeated = guard.observeCalls(calls.slice(0, cap));
        if (repeated && loopGuards()) {
          messages.push(...calls.map((call) => toolErrorMessage(call.id, REPEATED_CALL_NOT_RUN)));
          const ended = onRepetition(repeated);
          if (ended) return ended;
          continue;
        }
        const context = { spec: agentSpec, approvals, approvalTimeoutMs, deadlineMs: decision.deadlineMs };
        const results = await runToolCalls(calls, step, context, cap);
        messages.push(...results);
        const stale = guard.observeResults(
          calls.slice(0, cap),
          results.slice(0, cap).map((result) => result.content ?? ''),
        );
        if (stale && loopGuards()) {
          const ended = onRepetition(stale);
          if (ended) return ended;
        }
      }
    }

    /** Ends the run after a turn that did not answer: stuck, or a budget of the run (not of one session turn). */
    function endEarly(outcome: { stuck: string } | ({ answer: string } & SpentLimit)): Promise<AgentRunResult> {
      const unansweredMessages = inbox.drain();
      const unanswered = unansweredMessages.length ? { unansweredMessages } : {};
      if ('stuck' in outcome) {
        return finish({
          status: RunStatus.stuck,
          reason: `the model repeated ${outcome.stuck}`,
          output: stuckOutput(outcome.stuck, messages),
          ...unanswered,
        });
      }
      return finish({ status: RunStatus.limitReached, limit: outcome.limit, output: outcome.answer, ...unanswered });
    }

    const idleTimeoutMs = (input.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;
    for (;;) {
      if (!inbox.size) {
        if (input.mode === RunMode.task || inbox.ending) break;
        if (workflowInfo().continueAsNewSuggested) {
          // Let the last turn's `chat` return first; a message arriving meanwhile is answered before continuing.
          await condition(() => allHandlersFinished() || inbox.size > 0);
          if (inbox.size) continue;
          compact();
          const next: CarriedState = { spec: agentSpec, messages, step, usage, lastAnswer, startedAtMs };
          ensurePayloadFits('the continue-as-new input', serializedBytes([rawInput, next]));
          return await continueAsNew<typeof agentRun>(rawInput, next);
        }
        status.setPhase(RunStatus.awaitingInput);
        const wakesForHistory = patched(IDLE_WAIT_WAKES_FOR_CONTINUE_AS_NEW);
        const lifetimeLeftMs = (budget.lifetimeDeadlineMs() ?? Infinity) - Date.now();
        const woke = await condition(
          () => inbox.size > 0 || inbox.ending || (wakesForHistory && workflowInfo().continueAsNewSuggested),
          Math.max(1, Math.min(idleTimeoutMs, lifetimeLeftMs)),
        );
        if (!woke && lifetimeLeftMs <= idleTimeoutMs) {
          return await finish({
            status: RunStatus.limitReached,
            limit: LimitName.maxDurationSeconds,
            output: lastAnswer,
          });
        }
        if (!woke) break;
        if (!inbox.size && !inbox.ending) continue;
        if (!inbox.size) break;
      }
      // Messages queued before `end` are answered first (runs started before that ended at once).
      if (inbox.ending && !patched(ANSWER_MESSAGES_QUEUED_BEFORE_END)) break;
      const next = inbox.take()!;
      messages.push({ role: 'user', content: next.text });
      if (input.mode === RunMode.session) budget.startTurn(Date.now());
      const outcome = await runTurn();
      if ('stuck' in outcome) {
        inbox.answer(next, stuckOutput(outcome.stuck, messages));
        return await endEarly(outcome);
      }
      // A budget of one session turn ends only the turn: its wrap-up is the reply.
      if ('limit' in outcome && (input.mode === RunMode.task || outcome.lifetime)) {
        inbox.answer(next, outcome.answer);
        return await endEarly(outcome);
      }
      lastAnswer = outcome.answer;
      inbox.answer(next, outcome.answer);
    }
    return await finish({ status: RunStatus.completed, output: lastAnswer });
  } catch (error) {
    // continueAsNew ends this run by throwing; the run goes on in the next one.
    if (error instanceof ContinueAsNew) throw error;
    inbox.close();
    status.setPhase(isCancellation(error) ? RunStatus.cancelled : RunStatus.failed);
    throw error;
  }
}

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
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  approvalUpdate,
  chatUpdate,
  endSignal,
  enqueueUpdate,
  isMemoryWorkflowId,
  MEMORY_IDS_RESERVED,
  messageSignal,
  stateQuery,
} from '../src/contract';
import { DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_MAX_STEPS } from '../src/defaults';
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
} from '../src/types';
import { describeIssues, serializedBytes } from '../src/validation';
import { resolveAgentSpec } from './activities';
import { Approvals } from './approvals';
import { Budget, budgetsOf, costBudgetPrice, ZERO_USAGE } from './budget';
import { acceptCarriedState, type CarriedState } from './carried-state';
import { ensureProvenContinuation } from './proven-continuation';
import { ensurePayloadFits, invalidInput, runFailure, unpricedModel } from './run-failures';
import { ensureHistoryRoom, historyAtLimit, historyIsLong } from './history-size';
import { Inbox, type QueuedMessage } from './inbox';
import { MEMORY_TOOLS, recalledFacts, runMemoryId } from './memory-tools';
import { hasLoopGuards, hasPatch, Patch } from './patch-checks';
import { StatusReport } from './status-report';
import { compactTranscript } from './compaction';
import { TranscriptSender } from './transcript-sender';
import { carriedApprovals, type PendingStep } from './tool-calls';
import { runTurn, type LimitOutcome, type RunProgress, type StuckOutcome, type TurnMemory } from './turn';

export async function agentRun(rawInput: AgentRunInput, carriedInput?: CarriedState): Promise<AgentRunResult> {
  const parsedInput = agentRunInputSchema.safeParse(rawInput);
  if (!parsedInput.success) throw invalidInput(describeIssues(parsedInput.error));
  // A run under a memory's id would take that id from the memory: its `remember` calls would all fail.
  if (isMemoryWorkflowId(workflowInfo().workflowId)) {
    throw invalidInput(`workflow id ${JSON.stringify(workflowInfo().workflowId)}: ${MEMORY_IDS_RESERVED}`);
  }
  const input = parsedInput.data;
  const carried = acceptCarriedState(carriedInput);
  const startedAtMs = carried?.startedAtMs ?? Date.now();
  let spec: AgentSpec | undefined = carried?.spec;
  const messages: ChatMessage[] = carried?.messages ?? [];
  const progress: RunProgress = { step: carried?.step ?? 0, usage: carried?.usage ?? ZERO_USAGE };
  let lastAnswer = carried?.lastAnswer ?? '';

  const approvals = new Approvals(() => status.report());
  if (carried?.turn?.pendingStep) approvals.carryOver(carriedApprovals(carried.turn.pendingStep, carried.messages));
  const status = new StatusReport(approvals, () => progress);
  // A new run starts with its first message; a continuation with what its predecessor had not answered.
  const inbox = new Inbox(input.mode, () => status.status, carried ? (carried.queued ?? []) : [input.message]);
  if (carried?.ending) inbox.end();

  setHandler(stateQuery, (): AgentRunState => ({
    status: status.status,
    agent: input.agent,
    mode: input.mode,
    userId: input.userId,
    step: progress.step,
    messages,
    usage: progress.usage,
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
    status.end(result.status);
    await condition(allHandlersFinished);
    return { ...result, steps: progress.step, usage: progress.usage };
  }

  try {
    if (carried) await ensureProvenContinuation(invalidInput);
    if (!spec) {
      try {
        spec = await resolveAgentSpec({ agent: input.agent, model: input.model, fallbackModels: input.fallbackModels });
      } catch (error) {
        throw runFailure(error);
      }
      messages.push({ role: 'system', content: spec.instructions });
      // A memory-enabled agent's run with a user starts with what earlier runs remembered about that user.
      const recalled = await recalledFacts(spec, input.userId);
      if (recalled) messages.push(recalled);
    }
    const agentSpec: AgentSpec = spec;
    const limits: Limits = { maxSteps: DEFAULT_MAX_STEPS, ...agentSpec.limits, ...input.limits };
    const price = costBudgetPrice(agentSpec, limits);
    if (price === 'unpriced' && hasLoopGuards(agentSpec)) throw unpricedModel(agentSpec);
    const budget = new Budget(
      budgetsOf(limits),
      limits.lifetime ?? {},
      price === 'unpriced' ? undefined : price,
      () => ({
        steps: progress.step,
        usage: progress.usage,
        startedAtMs,
      }),
      carried?.budget,
    );
    // The memory's workflow id, which names the user and the scope the spec recorded.
    const memoryUserId = runMemoryId(agentSpec, input.userId);
    const modelTools = [
      ...agentSpec.tools.map(({ name, description, parameters }) => ({ name, description, parameters })),
      ...(memoryUserId !== undefined ? MEMORY_TOOLS : []),
    ];
    const toolsBytes = serializedBytes(modelTools);
    const transcriptMaxBytes = agentSpec.transcriptMaxBytes ?? agentSpec.transcriptMaxChars;
    /** The transcript's size when last compacted: about what a continuation would carry. */
    let transcriptBytes = 0;
    /** Compacts the transcript to the spec's bound; returns its serialized size. */
    function compact(): number {
      if (!transcriptMaxBytes) return (transcriptBytes = serializedBytes(messages));
      const { replaced, bytes } = compactTranscript(messages, transcriptMaxBytes);
      if (replaced) log.info('transcript compacted', { omittedMessages: replaced });
      return (transcriptBytes = bytes);
    }
    /**
     * Whether the run should stop where it is to continue as new (no caller waits on an update, which
     * could not be carried), or to fail `HistoryLimit` (history is at its limit).
     */
    const mustStop = () =>
      (historyIsLong(agentSpec, transcriptBytes) && allHandlersFinished()) || historyAtLimit(agentSpec);
    const turn = {
      spec: agentSpec,
      limits,
      messages,
      modelTools,
      progress,
      budget,
      status,
      tools: {
        spec: agentSpec,
        approvals,
        approvalTimeoutMs: (input.approvalTimeoutSeconds ?? agentSpec.approvalTimeoutSeconds) * 1000,
        memoryUserId,
        interruptsApprovalWait: mustStop,
      },
      requestBytes: () => compact() + toolsBytes,
      transcripts: new TranscriptSender(agentSpec, carried?.messages),
    };

    /**
     * Hands the run to its continuation (same workflow id, fresh history): the transcript, totals,
     * what the budget learned, the messages not yet answered, and the turn it is in, if any.
     */
    async function continueWith(turnInProgress?: CarriedState['turn']): Promise<never> {
      compact();
      const queued = inbox.drain();
      const next: CarriedState = {
        spec: agentSpec,
        messages,
        ...progress,
        lastAnswer,
        startedAtMs,
        budget: budget.memory(),
        ...(queued.length && { queued }),
        ...(inbox.ending && { ending: true }),
        ...(turnInProgress && { turn: turnInProgress }),
      };
      ensurePayloadFits('the continue-as-new input', serializedBytes([rawInput, next]));
      // This run's own status stays truthful in `list` and the Web UI; the continuation reports its own.
      status.setPhase(RunStatus.continued);
      return await continueAsNew<typeof agentRun>(rawInput, next);
    }

    /**
     * Between two steps of a turn: a run whose history grew long continues as new here, carrying the
     * turn, unless a caller waits on an update (a `chat` for this turn's answer), which cannot be carried.
     */
    async function beforeStep(answering: QueuedMessage, memory: TurnMemory): Promise<void> {
      if (
        historyIsLong(agentSpec, compact()) &&
        allHandlersFinished() &&
        hasPatch(agentSpec, Patch.continueAsNewMidTurn)
      ) {
        await continueWith({ ...memory, message: answering.text });
      }
      ensureHistoryRoom(agentSpec);
    }

    /**
     * The step's approval waits were interrupted: continue as new carrying them (with any decision
     * that came meanwhile), or fail `HistoryLimit`; if neither is due any more, the step waits on here.
     */
    async function continueAwaitingApproval(
      answering: QueuedMessage,
      { pendingStep, ...memory }: TurnMemory & { pendingStep: PendingStep },
    ): Promise<void> {
      if (historyIsLong(agentSpec, compact()) && allHandlersFinished()) {
        const stepPrefix = `${pendingStep.step}.`;
        const approvalsCarried = pendingStep.approvals.map((approval) => {
          const decision = approvals.decisionOn(`${stepPrefix}${approval.index + 1}`);
          return decision ? { ...approval, decision } : approval;
        });
        await continueWith({
          ...memory,
          pendingStep: { ...pendingStep, approvals: approvalsCarried },
          message: answering.text,
        });
      }
      ensureHistoryRoom(agentSpec);
    }

    /** Ends the run after a turn that did not answer: stuck, or a budget of the run (not of one session turn). */
    function endEarly(outcome: LimitOutcome | StuckOutcome): Promise<AgentRunResult> {
      const unansweredMessages = inbox.drain();
      const unanswered = unansweredMessages.length ? { unansweredMessages } : {};
      return finish(
        'stuck' in outcome
          ? {
              status: RunStatus.stuck,
              reason: `the model repeated ${outcome.stuck}`,
              output: outcome.answer,
              ...unanswered,
            }
          : { status: RunStatus.limitReached, limit: outcome.limit, output: outcome.answer, ...unanswered },
      );
    }

    /** Answers one message (or goes on with the turn a predecessor carried); a result when the run ends with it. */
    async function answer(next: QueuedMessage, resume?: TurnMemory): Promise<AgentRunResult | undefined> {
      if (!resume) {
        messages.push({ role: 'user', content: next.text });
        if (input.mode === RunMode.session) budget.startTurn(Date.now());
      }
      const outcome = await runTurn(
        {
          ...turn,
          beforeStep: (memory) => beforeStep(next, memory),
          continueAwaitingApproval: (memory) => continueAwaitingApproval(next, memory),
        },
        resume,
      );
      inbox.answer(next, outcome.answer);
      // A budget of one session turn ends only the turn: its wrap-up is the reply.
      if ('stuck' in outcome || ('limit' in outcome && (input.mode === RunMode.task || outcome.lifetime))) {
        return await endEarly(outcome);
      }
      lastAnswer = outcome.answer;
      return undefined;
    }

    if (carried?.turn) {
      const { message, ...memory } = carried.turn;
      const ended = await answer({ text: message }, memory);
      if (ended) return ended;
    }
    const idleTimeoutMs = (input.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;
    for (;;) {
      if (!inbox.size) {
        if (input.mode === RunMode.task || inbox.ending) break;
        if (workflowInfo().continueAsNewSuggested) {
          // Let the last turn's `chat` return first; a message arriving meanwhile is answered before continuing.
          await condition(() => allHandlersFinished() || inbox.size > 0);
          if (inbox.size) continue;
          return await continueWith();
        }
        status.setPhase(RunStatus.awaitingInput);
        const wakesForHistory = hasPatch(agentSpec, Patch.idleWaitWakesForContinueAsNew);
        const lifetimeLeftMs = (budget.lifetimeDeadlineMs() ?? Infinity) - Date.now();
        const woke = await condition(
          () => inbox.size > 0 || inbox.ending || (wakesForHistory && workflowInfo().continueAsNewSuggested),
          Math.max(1, Math.min(idleTimeoutMs, lifetimeLeftMs)),
          { summary: 'idle timeout · waiting for the next message' },
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
      if (inbox.ending && !hasPatch(agentSpec, Patch.answerMessagesQueuedBeforeEnd)) break;
      const ended = await answer(inbox.take()!);
      if (ended) return ended;
    }
    return await finish({ status: RunStatus.completed, output: lastAnswer });
  } catch (error) {
    // continueAsNew ends this run by throwing; the run goes on in the next one.
    if (error instanceof ContinueAsNew) throw error;
    inbox.close();
    status.end(isCancellation(error) ? RunStatus.cancelled : RunStatus.failed);
    throw error;
  }
}

/**
 * `agentRun`: one agent run as a deterministic loop. Every model call and tool call is an activity,
 * so the event history is the run's checkpoint and any worker continues it after a crash.
 */
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  ContinueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, ModelCallResult } from '../activities';
import {
  approvalUpdate,
  chatUpdate,
  endSignal,
  messageSignal,
  searchAttributes,
  stateQuery,
} from '../src/contract';
import { ErrorType, NON_RETRYABLE_MODEL_ERRORS } from '../src/errors';
import {
  agentRunInputSchema,
  describeIssues,
  userMessageSchema,
  type AgentRunInput,
  type ParsedAgentRunInput,
} from '../src/input';
import {
  RunMode,
  RunStatus,
  type AgentRunResult,
  type AgentRunState,
  type AgentSpec,
  type ApprovalDecision,
  type ChatMessage,
  type LimitName,
  type PendingApproval,
  type ToolCall,
  type ToolSpec,
  type Usage,
} from '../src/types';
import { addUsage, DEFAULT_MAX_STEPS, exceededLimit, ZERO_USAGE } from './budget';
import { parseArguments, toolErrorMessage, toolMessage, unknownToolError } from './tool-messages';
import { compactTranscript } from './transcript';

/** A session waits this long for the next message before it completes (input `idleTimeoutSeconds`). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 24 * 60 * 60;

/** What a run hands to its continuation when its history grows long (see `continueAsNew`). */
export interface CarriedState {
  spec: AgentSpec;
  messages: ChatMessage[];
  step: number;
  usage: Usage;
  lastAnswer: string;
  startedAtMs: number;
}

const { resolveAgentSpec, checkToolArguments } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, nonRetryableErrorTypes: [ErrorType.UnknownAgent, ErrorType.ToolNotRegistered] },
});

interface QueuedMessage {
  text: string;
  /** Set for a `chat` update waiting for this message's reply. */
  turnId?: number;
}

/** Orders call ids (`step.index`) numerically: 2.10 after 2.9. */
function compareCallIds(a: string, b: string): number {
  const [stepA, indexA] = a.split('.').map(Number);
  const [stepB, indexB] = b.split('.').map(Number);
  return stepA - stepB || indexA - indexB;
}

function validateInput(raw: AgentRunInput): ParsedAgentRunInput {
  const parsed = agentRunInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw ApplicationFailure.create({
      type: ErrorType.InvalidAgentInput,
      message: `invalid agentRun input: ${describeIssues(parsed.error)}`,
      nonRetryable: true,
    });
  }
  return parsed.data;
}

/** The failure of an activity, as the type and message of the ApplicationFailure behind it. */
function failureOf(error: unknown): { type?: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? undefined, message: cause.message };
  return { message: cause instanceof Error ? cause.message : String(cause) };
}

export async function agentRun(rawInput: AgentRunInput, carried?: CarriedState): Promise<AgentRunResult> {
  const input = validateInput(rawInput);
  const startedAtMs = carried?.startedAtMs ?? Date.now();
  let phase: RunStatus = RunStatus.starting;
  let spec: AgentSpec | undefined = carried?.spec;
  const messages: ChatMessage[] = carried?.messages ?? [];
  let step = carried?.step ?? 0;
  let usage: Usage = carried?.usage ?? ZERO_USAGE;
  let lastAnswer = carried?.lastAnswer ?? '';
  // A continuation starts between turns with nothing queued; a new run starts with its first message.
  const inbox: QueuedMessage[] = carried ? [] : [{ text: input.message }];
  const replies = new Map<number, string>();
  const approvals = new Map<string, PendingApproval & { decision?: ApprovalDecision }>();
  let nextTurnId = 1;
  let endRequested = false;
  let finished = false;

  // In the order the model made the calls, whichever argument check finished first.
  const pendingApprovals = (): PendingApproval[] =>
    [...approvals.values()]
      .filter((entry) => !entry.decision)
      .sort((a, b) => compareCallIds(a.callId, b.callId))
      .map(({ callId, tool, args }) => ({ callId, tool, args }));
  const status = (): RunStatus => (pendingApprovals().length ? RunStatus.awaitingApproval : phase);

  let reportedStatus: RunStatus | undefined;
  /** Keeps the search attributes and the Web UI's one-line details current. */
  function report(): void {
    const current = status();
    const pending = pendingApprovals();
    setCurrentDetails(
      [
        `${current} · step ${step} · ${usage.totalTokens} tokens`,
        ...pending.map((entry) => `awaiting approval: ${entry.tool} (callId ${entry.callId})`),
      ].join('\n'),
    );
    if (current !== reportedStatus) {
      reportedStatus = current;
      upsertSearchAttributes([{ key: searchAttributes.agentStatus, value: current }]);
    }
  }
  function setPhase(next: RunStatus): void {
    phase = next;
    report();
  }

  setHandler(stateQuery, (): AgentRunState => ({
    status: status(),
    agent: input.agent,
    mode: input.mode,
    userId: input.userId,
    step,
    messages,
    usage,
    pendingApprovals: pendingApprovals(),
    queuedMessages: inbox.length,
  }));

  setHandler(messageSignal, (message) => {
    // A signal cannot be refused; `chat` is the validated way in. Say what was dropped and why.
    const parsed = userMessageSchema.safeParse(message);
    if (!parsed.success) {
      log.warn('message signal ignored', { reason: describeIssues(parsed.error) });
      return;
    }
    inbox.push({ text: parsed.data.text });
  });

  setHandler(endSignal, () => {
    endRequested = true;
  });

  setHandler(
    chatUpdate,
    async (message) => {
      const turnId = nextTurnId++;
      inbox.push({ text: userMessageSchema.parse(message).text, turnId });
      await condition(() => replies.has(turnId) || finished);
      const reply = replies.get(turnId);
      replies.delete(turnId);
      if (reply === undefined) {
        throw ApplicationFailure.create({ message: `the run ended (${status()}) before answering this message` });
      }
      return reply;
    },
    {
      validator: (message) => {
        if (input.mode !== RunMode.session) throw new Error('this run is a task, not a session: start it with mode "session"');
        if (finished || endRequested) throw new Error('this session has ended');
        const parsed = userMessageSchema.safeParse(message);
        if (!parsed.success) throw new Error(describeIssues(parsed.error));
      },
    },
  );

  setHandler(
    approvalUpdate,
    (decision) => {
      const entry = approvals.get(decision.callId)!;
      entry.decision = { callId: decision.callId, approve: decision.approve, note: decision.note };
      report();
      return decision.approve ? `approved ${entry.tool} (${entry.callId})` : `denied ${entry.tool} (${entry.callId})`;
    },
    {
      validator: (decision) => {
        if (typeof decision?.callId !== 'string') throw new Error('callId: expected a string');
        if (typeof decision.approve !== 'boolean') throw new Error('approve: expected true or false');
        if (decision.note !== undefined && typeof decision.note !== 'string') throw new Error('note: expected a string');
        const entry = approvals.get(decision.callId);
        if (!entry) {
          const open = pendingApprovals().map((pending) => pending.callId);
          throw new Error(`no tool call ${decision.callId} awaits approval; pending: ${open.join(', ') || '(none)'}`);
        }
        if (entry.decision) throw new Error(`tool call ${decision.callId} was already ${entry.decision.approve ? 'approved' : 'denied'}`);
      },
    },
  );

  upsertSearchAttributes([
    { key: searchAttributes.agentName, value: input.agent },
    ...(input.userId ? [{ key: searchAttributes.agentUser, value: input.userId }] : []),
  ]);

  async function finish(result: Omit<AgentRunResult, 'steps' | 'usage'>): Promise<AgentRunResult> {
    finished = true;
    setPhase(result.status);
    await condition(allHandlersFinished);
    return { ...result, steps: step, usage };
  }

  try {
    if (!spec) {
      try {
        spec = await resolveAgentSpec({ agent: input.agent, model: input.model });
      } catch (error) {
        const failure = failureOf(error);
        throw ApplicationFailure.create({ type: failure.type, message: failure.message, nonRetryable: true });
      }
      messages.push({ role: 'system', content: spec.instructions });
    }
    const agentSpec: AgentSpec = spec;
    const limits = { maxSteps: DEFAULT_MAX_STEPS, ...agentSpec.limits, ...input.limits };
    const approvalTimeoutMs = (input.approvalTimeoutSeconds ?? agentSpec.approvalTimeoutSeconds) * 1000;
    const modelTools = agentSpec.tools.map(({ name, description, parameters }) => ({ name, description, parameters }));

    const callModel = (): Promise<ModelCallResult> =>
      proxyActivities<Activities>({
        summary: `model ${agentSpec.model} · step ${step}`,
        startToCloseTimeout: agentSpec.modelCall.requestTimeoutMs + 5_000,
        heartbeatTimeout: agentSpec.modelCall.heartbeatTimeoutMs,
        retry: {
          maximumAttempts: agentSpec.modelCall.maxAttempts,
          initialInterval: '1s',
          backoffCoefficient: 2,
          maximumInterval: '60s',
          nonRetryableErrorTypes: NON_RETRYABLE_MODEL_ERRORS,
        },
      }).callModel({
        agent: agentSpec.name,
        model: agentSpec.model,
        step,
        messages,
        tools: modelTools,
        requestTimeoutMs: agentSpec.modelCall.requestTimeoutMs,
      });

    async function decide(callId: string, tool: ToolSpec, args: unknown): Promise<ApprovalDecision> {
      const entry: PendingApproval & { decision?: ApprovalDecision } = { callId, tool: tool.name, args };
      approvals.set(callId, entry);
      report();
      const decided = await condition(() => entry.decision !== undefined, approvalTimeoutMs);
      if (!decided) {
        entry.decision = {
          callId,
          approve: false,
          note: `no decision within ${approvalTimeoutMs / 1000} seconds, so the call was denied automatically`,
        };
        report();
      }
      return entry.decision!;
    }

    async function runToolCall(call: ToolCall, callId: string): Promise<ChatMessage> {
      const tool = agentSpec.tools.find((candidate) => candidate.name === call.function.name);
      if (!tool) return toolErrorMessage(call.id, unknownToolError(call.function.name, agentSpec.tools));
      const parsed = parseArguments(call.function.arguments);
      if (!parsed.ok) return toolErrorMessage(call.id, parsed.error);
      if (tool.requiresApproval) {
        const checked = await checkToolArguments({ agent: agentSpec.name, tool: tool.name, args: parsed.args });
        if (!checked.ok) return toolErrorMessage(call.id, checked.error);
        const decision = await decide(callId, tool, parsed.args);
        if (!decision.approve) {
          return toolMessage(
            call.id,
            JSON.stringify({ denied: true, error: `A person denied this call to ${tool.name}.`, note: decision.note ?? null }),
          );
        }
      }
      try {
        const outcome = await proxyActivities<Activities>({
          summary: `tool ${tool.name}`,
          startToCloseTimeout: tool.startToCloseTimeoutMs,
          heartbeatTimeout: tool.heartbeatTimeoutMs,
          retry: tool.retry,
          taskQueue: tool.taskQueue,
        }).runTool({ agent: agentSpec.name, tool: tool.name, args: parsed.args, callId });
        return outcome.ok ? toolMessage(call.id, outcome.content) : toolErrorMessage(call.id, outcome.error);
      } catch (error) {
        if (isCancellation(error)) throw error;
        return toolErrorMessage(call.id, `Tool ${tool.name} failed: ${failureOf(error).message}`);
      }
    }

    /** Model and tools until the model answers; or the budget that stopped the turn. */
    async function runTurn(): Promise<{ answer: string } | { limit: LimitName }> {
      for (;;) {
        const limit = exceededLimit(limits, { steps: step, usage, elapsedSeconds: (Date.now() - startedAtMs) / 1000 });
        if (limit) return { limit };
        step += 1;
        setPhase(RunStatus.running);
        if (agentSpec.transcriptMaxChars) {
          const omitted = compactTranscript(messages, agentSpec.transcriptMaxChars);
          if (omitted) log.info('transcript compacted', { omittedToolResults: omitted });
        }
        let response: ModelCallResult;
        try {
          response = await callModel();
        } catch (error) {
          if (isCancellation(error)) throw error;
          const failure = failureOf(error);
          throw ApplicationFailure.create({ type: failure.type, message: failure.message, nonRetryable: true });
        }
        usage = addUsage(usage, response);
        messages.push(response.message);
        upsertSearchAttributes([
          { key: searchAttributes.agentSteps, value: step },
          { key: searchAttributes.agentTokens, value: usage.totalTokens },
          { key: searchAttributes.agentCostUsd, value: usage.costUsd },
        ]);
        const calls = response.message.tool_calls ?? [];
        if (!calls.length) {
          const answer = response.message.content?.trim();
          if (answer) return { answer };
          messages.push({ role: 'user', content: 'Your last reply was empty. Answer the user, or call a tool.' });
          continue;
        }
        // Calls of one turn run in parallel; each result keeps its call's position in the transcript.
        const results = await Promise.all(calls.map((call, index) => runToolCall(call, `${step}.${index + 1}`)));
        messages.push(...results);
      }
    }

    const idleTimeoutMs = (input.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000;
    for (;;) {
      if (!inbox.length) {
        if (input.mode === RunMode.task || endRequested) break;
        if (workflowInfo().continueAsNewSuggested) {
          // Let the last turn's `chat` return first; a message arriving meanwhile is answered before continuing.
          await condition(() => allHandlersFinished() || inbox.length > 0);
          if (inbox.length) continue;
          const next: CarriedState = { spec: agentSpec, messages, step, usage, lastAnswer, startedAtMs };
          return await continueAsNew<typeof agentRun>(rawInput, next);
        }
        setPhase(RunStatus.awaitingInput);
        const received = await condition(() => inbox.length > 0 || endRequested, idleTimeoutMs);
        if (!received || !inbox.length) break;
      }
      if (endRequested) break;
      const next = inbox.shift()!;
      messages.push({ role: 'user', content: next.text });
      const outcome = await runTurn();
      if ('limit' in outcome) {
        return await finish({
          status: RunStatus.limitReached,
          limit: outcome.limit,
          output: lastAnswer || `Stopped before answering: the ${outcome.limit} budget (${limits[outcome.limit]}) is spent.`,
        });
      }
      lastAnswer = outcome.answer;
      if (next.turnId !== undefined) replies.set(next.turnId, outcome.answer);
    }
    return await finish({ status: RunStatus.completed, output: lastAnswer });
  } catch (error) {
    // continueAsNew ends this run by throwing; the run goes on in the next one.
    if (error instanceof ContinueAsNew) throw error;
    finished = true;
    setPhase(isCancellation(error) ? RunStatus.cancelled : RunStatus.failed);
    throw error;
  }
}

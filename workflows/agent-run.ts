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
import { DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_MAX_STEPS } from '../src/defaults';
import { agentRunInputSchema, type AgentRunInput } from '../src/input';
import {
  RunMode,
  RunStatus,
  type AgentRunResult,
  type AgentRunState,
  type AgentSpec,
  type ChatMessage,
  type LimitName,
  type Usage,
} from '../src/types';
import { describeIssues, serializedBytes } from '../src/validation';
import { callModel, resolveAgentSpec } from './activities';
import { Approvals } from './approvals';
import { addUsage, exceededLimit, ZERO_USAGE } from './budget';
import { acceptCarriedState, type CarriedState } from './continuation';
import { ensurePayloadFits, invalidInput, runFailure } from './failures';
import { Inbox } from './inbox';
import { StatusReport } from './status-report';
import { runToolCall } from './tool-calls';
import { compactTranscript } from './transcript';

/** A session that waits for input wakes to continue as new when history grows (runs started before wait out the idle timeout). */
const IDLE_WAIT_WAKES_FOR_CONTINUE_AS_NEW = 'idle-wait-wakes-for-continue-as-new';

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
        spec = await resolveAgentSpec({ agent: input.agent, model: input.model });
      } catch (error) {
        throw runFailure(error);
      }
      messages.push({ role: 'system', content: spec.instructions });
    }
    const agentSpec: AgentSpec = spec;
    const limits = { maxSteps: DEFAULT_MAX_STEPS, ...agentSpec.limits, ...input.limits };
    const approvalTimeoutMs = (input.approvalTimeoutSeconds ?? agentSpec.approvalTimeoutSeconds) * 1000;
    const modelTools = agentSpec.tools.map(({ name, description, parameters }) => ({ name, description, parameters }));
    const toolContext = { spec: agentSpec, approvals, approvalTimeoutMs };
    const toolsBytes = serializedBytes(modelTools);
    const transcriptMaxBytes = agentSpec.transcriptMaxBytes ?? agentSpec.transcriptMaxChars;
    /** Compacts the transcript to the spec's bound; returns its serialized size. */
    function compact(): number {
      if (!transcriptMaxBytes) return serializedBytes(messages);
      const { replaced, bytes } = compactTranscript(messages, transcriptMaxBytes);
      if (replaced) log.info('transcript compacted', { omittedMessages: replaced });
      return bytes;
    }

    /** Model and tools until the model answers; or the budget that stopped the turn. */
    async function runTurn(): Promise<{ answer: string } | { limit: LimitName }> {
      for (;;) {
        const limit = exceededLimit(limits, { steps: step, usage, elapsedSeconds: (Date.now() - startedAtMs) / 1000 });
        if (limit) return { limit };
        step += 1;
        status.setPhase(RunStatus.running);
        ensurePayloadFits(`the model call of step ${step}`, compact() + toolsBytes);
        const response = await callModel(agentSpec, step, messages, modelTools).catch((error: unknown) => {
          throw isCancellation(error) ? error : runFailure(error);
        });
        usage = addUsage(usage, response);
        messages.push(response.message);
        status.reportUsage(step, usage);
        const calls = response.message.tool_calls ?? [];
        if (!calls.length) {
          const answer = response.message.content?.trim();
          if (answer) return { answer };
          messages.push({ role: 'user', content: 'Your last reply was empty. Answer the user, or call a tool.' });
          continue;
        }
        // Calls of one turn run in parallel; each result keeps its call's position in the transcript.
        const results = await Promise.all(
          calls.map((call, index) => runToolCall(call, `${step}.${index + 1}`, toolContext)),
        );
        messages.push(...results);
      }
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
        const woke = await condition(
          () => inbox.size > 0 || inbox.ending || (wakesForHistory && workflowInfo().continueAsNewSuggested),
          idleTimeoutMs,
        );
        if (!woke) break;
        if (!inbox.size && !inbox.ending) continue;
        if (!inbox.size) break;
      }
      if (inbox.ending) break;
      const next = inbox.take()!;
      messages.push({ role: 'user', content: next.text });
      const outcome = await runTurn();
      if ('limit' in outcome) {
        return await finish({
          status: RunStatus.limitReached,
          limit: outcome.limit,
          output:
            lastAnswer || `Stopped before answering: the ${outcome.limit} budget (${limits[outcome.limit]}) is spent.`,
        });
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

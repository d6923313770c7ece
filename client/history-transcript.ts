/**
 * A run's transcript, per-step usage and approvals rebuilt from its history alone (no worker, no
 * query): what `AgentClient.transcript` returns, and what the CLI's `transcript` and `export` print.
 */
import type { temporal } from '@temporalio/proto';
import { ApprovalReader, withToolCalls, type ApprovalRecord } from './approval-records';
import type { ModelCallInput, ModelCallResult, ToolCallInput, ToolCallOutcome } from '../src/activity-contract';
import { subAgentCallId } from '../src/contract';
import { addBilledParts } from '../src/pricing';
import { callRecordsOf } from '../src/recorded-calls';
import { ToolResultPrefix } from '../src/tool-result-kinds';
import { TRANSCRIPT_ACTIVITY_TYPES, TranscriptReplay, type TranscriptCarrier } from '../src/transcript-replay';
import type { AgentRunState, ChatMessage, SubAgentRunRef, TokenUsage, ToolCall } from '../src/types';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** One model call of a run: its step, the model that answered, tokens, cost and how long it took. */
export interface StepUsage {
  step: number;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** Of the input, tokens read from the provider's prompt cache; of the output, reasoning tokens (when reported). */
  cachedInputTokens?: number;
  reasoningTokens?: number;
  costUsd: number;
  /** From the call's scheduled event to its completed event. */
  seconds: number;
  /** Set when the endpoint reported no usage for this call: its tokens are estimated. */
  estimated?: true;
}

export interface RunTranscript {
  workflowId: string;
  /** The run of the chain read: the latest (a session that continued as new goes on in it). */
  runId?: string;
  agent?: string;
  status: string;
  /** The model of the last model call: the one to replay the transcript against. */
  model?: string;
  /** The tools the last model call offered, as the model saw them. */
  tools: ModelCallInput['tools'];
  messages: ChatMessage[];
  steps: StepUsage[];
  usage: TokenUsage;
  /** Every decision on a call that awaited approval, in the order they took effect. */
  approvals: ApprovalRecord[];
  /** The transcripts of the run's sub-agents' runs, in the order they were called (each with its own). */
  subAgents?: RunTranscript[];
}

/** What one run's history holds: its transcript parts, and the tool calls of each step's answer. */
export type RunRecords = Pick<RunTranscript, 'messages' | 'steps' | 'usage' | 'model' | 'tools' | 'approvals'> & {
  /** The calls of each step's (last) answer: call `step.index` is the index-th of them. */
  callsByStep: Map<number, ToolCall[]>;
};

/**
 * The messages and per-step usage of a run from its history `events`. Every `callModel` input holds
 * the transcript so far (whole, or as a delta on the run's previous one), so the transcript is the
 * last call's messages, its answer (if it came) and the results of the tools that answer called. `decode` reads one payload through the client's data
 * converter (and codecs: an encrypted run decodes with its keys).
 */
export async function transcriptFromHistory(
  events: HistoryEvent[],
  decode: (payload: Payload) => Promise<unknown>,
): Promise<Pick<RunTranscript, 'messages' | 'steps' | 'usage' | 'model' | 'tools' | 'approvals'>> {
  const { callsByStep, ...records } = await recordsFromHistory(events, decode);
  return { ...records, approvals: withToolCalls(records.approvals, callsByStep) };
}

/** The records of one run's history: `transcriptFromHistory`, with the calls of each step still apart. */
export async function recordsFromHistory(
  events: HistoryEvent[],
  decode: (payload: Payload) => Promise<unknown>,
): Promise<RunRecords> {
  const scheduled = new Map<string, { type: string; input: unknown }>();
  const models: {
    input: ModelCallInput;
    messages: ChatMessage[];
    result?: ModelCallResult;
    startMs: number;
    endMs?: number;
  }[] = [];
  const toolsInOrder: { input: ToolCallInput; outcome?: ToolCallOutcome; after: number }[] = [];
  const replay = new TranscriptReplay();
  const approvals = new ApprovalReader(decode);
  const read = (type: string) => TRANSCRIPT_ACTIVITY_TYPES.includes(type) || type === 'runTool';
  for (const event of events) {
    await replay.startedWith(event, decode);
    await approvals.read(event);
    for (const record of await callRecordsOf(event, decode, read)) {
      if (record.kind === 'scheduled') {
        const { id, type, input } = record;
        const messages = type === 'runTool' ? undefined : replay.messagesOf(input as TranscriptCarrier);
        if (type === 'runTool') toolsInOrder.push({ input: input as ToolCallInput, after: models.length });
        else if (type !== 'callModel') continue;
        else models.push({ input: input as ModelCallInput, messages: messages ?? [], startMs: record.timeMs });
        scheduled.set(id, { type, input });
        continue;
      }
      const source = scheduled.get(record.id);
      if (!source) continue;
      const result = await record.result();
      if (source.type === 'callModel') {
        const call = models.find((model) => model.input === source.input)!;
        call.result = result as ModelCallResult;
        call.endMs = record.timeMs;
      } else {
        toolsInOrder.find((tool) => tool.input === source.input)!.outcome = result as ToolCallOutcome;
      }
    }
  }

  const steps: StepUsage[] = models
    .filter((call) => call.result)
    .map(({ input, result, startMs, endMs }) => ({
      step: input.step,
      model: result!.model,
      inputTokens: result!.inputTokens,
      outputTokens: result!.outputTokens,
      ...addBilledParts(undefined, result!),
      costUsd: result!.costUsd,
      seconds: Math.round(endMs! - startMs) / 1_000,
      ...(result!.usageEstimated && { estimated: true as const }),
    }));
  const usage = totalUsage(steps);
  const callsByStep = new Map<number, ToolCall[]>();
  for (const { input, result } of models) {
    if (result?.message.tool_calls?.length) callsByStep.set(input.step, result.message.tool_calls);
  }
  const recorded = { steps, usage, approvals: approvals.records, callsByStep };

  const last = models.at(-1);
  if (!last) return { ...recorded, messages: [], tools: [] };
  const messages = [...last.messages];
  const answer = last.result?.message;
  if (answer) {
    messages.push(answer);
    // A tool call's id is `step.index`: the index-th call of that step's answer.
    const results = toolsInOrder
      .filter((tool) => tool.after === models.length && tool.outcome)
      .map((tool) => ({ ...tool, index: Number(tool.input.callId.split('.')[1]) }))
      .sort((a, b) => a.index - b.index);
    for (const { outcome, index } of results) {
      const call = answer.tool_calls?.[index - 1];
      if (!call || !outcome) continue;
      // As the run words it (workflows/tool-messages.ts).
      const content = outcome.ok ? outcome.content : `${ToolResultPrefix.error}${outcome.error}`;
      messages.push({ role: 'tool', tool_call_id: call.id, content });
    }
  }
  return { ...recorded, messages, model: last.result?.model ?? last.input.model, tools: last.input.tools };
}

/**
 * What a run's history says it told, as its `state` would: its messages, and the sub-agent runs it
 * started (child runs `<run id>/<step.index>`, each for the tool call of that id). For a closed run
 * no worker answers for.
 */
export async function toldFromHistory(
  events: HistoryEvent[],
  decode: (payload: Payload) => Promise<unknown>,
): Promise<Pick<AgentRunState, 'messages' | 'subAgentRuns'>> {
  const { messages, callsByStep } = await recordsFromHistory(events, decode);
  const subAgentRuns: SubAgentRunRef[] = [];
  for (const event of events) {
    const workflowId = event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
    if (!workflowId) continue;
    const callId = subAgentCallId(workflowId);
    const [step, index] = callId.split('.').map(Number);
    const call = callsByStep.get(step)?.[index - 1];
    if (call) subAgentRuns.push({ callId, toolCallId: call.id, agent: call.function.name, workflowId });
  }
  return { messages, subAgentRuns };
}

/** The usage of `steps`, summed. */
export function totalUsage(steps: StepUsage[]): TokenUsage {
  return steps.reduce<TokenUsage>(
    (sum, step) => ({
      inputTokens: sum.inputTokens + step.inputTokens,
      outputTokens: sum.outputTokens + step.outputTokens,
      totalTokens: sum.totalTokens + step.inputTokens + step.outputTokens,
      ...addBilledParts(sum, step),
      costUsd: sum.costUsd + step.costUsd,
      ...((sum.estimated || step.estimated) && { estimated: true as const }),
    }),
    { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
  );
}

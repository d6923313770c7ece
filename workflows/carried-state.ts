/**
 * What a run hands to its continuation when its history grows long. Only the run itself may hand
 * it over: `agentRun`'s second argument is accepted only when the run really continues a chain, so
 * nobody can start a run with a forged spec (no approvals), step count or usage (no budgets).
 */
import { workflowInfo } from '@temporalio/workflow';
import { z } from 'zod';
import { approvalDecisionSchema, limitsSchema } from '../src/input';
import { Bounds } from '../src/defaults';
import { modelSettingsSchema } from '../src/model-settings';
import { modelPriceSchema } from '../src/pricing';
import { MemoryScope, type AgentSpec, type ChatMessage, type StructuredOutput, type Usage } from '../src/types';
import { describeIssues, utf8Bytes } from '../src/validation';
import type { BudgetMemory } from './budget';
import type { TurnMemory } from './turn';
import type { PendingStep } from './tool-calls';
import { invalidInput } from './run-failures';

export interface CarriedState {
  /** The spec of the run's own agent, as it was resolved at the chain's start. */
  spec: AgentSpec;
  /** The spec of the agent a handoff passed the run to, which the continuation goes on as. */
  handedTo?: AgentSpec;
  messages: ChatMessage[];
  step: number;
  /** The run's own usage; with `subAgentUsage`, that of its sub-agents' runs that ended. */
  usage: Usage;
  subAgentUsage?: Usage;
  lastAnswer: string;
  /** The last answer's object, for an agent with an output schema (absent: none). */
  lastOutput?: StructuredOutput;
  startedAtMs: number;
  /** What the run's budget had learned (absent from runs that continued before it was carried). */
  budget?: BudgetMemory;
  /** A turn the run was in the middle of (task runs continue between steps): the message and where it is. */
  turn?: TurnMemory & { message: string };
  /** Messages received and not yet answered, oldest first. */
  queued?: string[];
  /** `steer` messages for the carried turn, not yet joined: they join it at its next step. */
  steering?: string[];
  /** The session was asked to end (after the messages queued before that). */
  ending?: boolean;
}

/**
 * The schema of carried state, built when a run is handed one: building zod schemas costs every run
 * that loads them (each run evaluates its workflow modules afresh), and most runs never continue.
 */
function carriedStateSchema() {
  const count = z.number().int().nonnegative();
  const amount = z.number().nonnegative();

  const tokenUsage = z.object({
    inputTokens: count,
    outputTokens: count,
    totalTokens: count,
    costUsd: amount,
    cachedInputTokens: count.optional(),
    reasoningTokens: count.optional(),
    // Estimated usage stays marked across continue-as-new.
    estimated: z.literal(true).optional(),
  });

  const toolCallSchema = z.object({
    id: z.string(),
    type: z.literal('function'),
    function: z.object({ name: z.string(), arguments: z.string() }),
  });

  const messageSchema = z.discriminatedUnion('role', [
    z.object({ role: z.literal('system'), content: z.string() }),
    z.object({ role: z.literal('user'), content: z.string() }),
    z.object({
      role: z.literal('assistant'),
      content: z.string().nullable(),
      tool_calls: z.array(toolCallSchema).optional(),
    }),
    z.object({ role: z.literal('tool'), tool_call_id: z.string(), content: z.string() }),
  ]);

  // Loose objects: a continuation written by a newer worker may carry fields this code does not know.
  const specSchema = z.looseObject({
    name: z.string(),
    description: z.string(),
    instructions: z.string(),
    model: z.string(),
    tools: z.array(
      z.looseObject({
        name: z.string(),
        description: z.string(),
        parameters: z.record(z.string(), z.unknown()),
        requiresApproval: z.boolean(),
        startToCloseTimeoutMs: z.number().positive(),
        heartbeatTimeoutMs: z.number().positive().optional(),
        retry: z.looseObject({}),
        taskQueue: z.string().optional(),
        local: z.boolean().optional(),
        mcp: z.object({ server: z.string(), tool: z.string() }).optional(),
      }),
    ),
    limits: limitsSchema,
    approvalTimeoutSeconds: z.number().positive(),
    modelCall: z.looseObject({
      requestTimeoutMs: z.number().positive(),
      heartbeatTimeoutMs: z.number().positive(),
      maxAttempts: count,
      local: z.boolean().optional(),
      taskQueue: z.string().optional(),
    }),
    transcriptMaxBytes: z.number().int().positive().optional(),
    transcriptMaxChars: z.number().int().positive().optional(),
    fallbackModels: z.array(z.string()).optional(),
    prices: z.record(z.string(), modelPriceSchema()).optional(),
    modelSettings: modelSettingsSchema().optional(),
    memory: z.boolean().optional(),
    memoryScope: z.enum([MemoryScope.agent, MemoryScope.shared]).optional(),
    contextWindowTokens: z.number().int().positive().optional(),
    compactAtTokens: z.number().int().positive().optional(),
    continueAsNewAtBytes: z.number().int().positive().optional(),
    historyLimitBytes: z.number().int().positive().optional(),
    mcpServers: z
      .array(
        z.looseObject({
          name: z.string(),
          requiresApproval: z.union([z.boolean(), z.array(z.string())]),
          startToCloseTimeoutMs: z.number().positive(),
          heartbeatTimeoutMs: z.number().positive(),
          retry: z.looseObject({}),
          taskQueue: z.string().optional(),
          listed: z.string().optional(),
        }),
      )
      .optional(),
    handoffs: z.array(z.object({ agent: z.string(), tool: z.string(), description: z.string() })).optional(),
  });

  const usageSchema = z.object({
    ...tokenUsage.shape,
    costKnown: z.boolean(),
    byModel: z.record(z.string(), z.object({ ...tokenUsage.shape, calls: count })).optional(),
  });

  const userMessageText = z.string().refine((text) => utf8Bytes(text) <= Bounds.messageBytes, 'message too large');

  const spentSchema = z.object({
    steps: count,
    usage: usageSchema,
    startedAtMs: z.number().int().nonnegative(),
  });

  const budgetMemorySchema = z.object({
    turnStart: spentSchema,
    lastCall: z.object({ inputTokens: count, requestBytes: count }).optional(),
    longestOutput: count,
    largestGrowth: z.number(),
    slowestCallMs: amount,
  });

  const pendingStepSchema = z.object({
    step: count,
    cap: count,
    deadlineMs: z.number().optional(),
    results: z.array(messageSchema.nullable()),
    approvals: z.array(
      z.object({
        index: count,
        timeoutAtMs: z.number(),
        expired: z.string(),
        // Loose: a decision carries what its schema allows (edited arguments, who decided and where).
        decision: z.looseObject(approvalDecisionSchema.shape).optional(),
      }),
    ),
  });

  const turnSchema = z.object({
    message: userMessageText,
    start: count,
    guard: z.object({
      streaks: z.array(z.tuple([z.string(), count])),
      seenResults: z.array(z.string()),
      staleAnswers: count,
    }),
    warned: z.boolean(),
    emptyAnswers: count,
    outputRepairs: count.optional(),
    pendingStep: pendingStepSchema.optional(),
  });

  return z.object({
    spec: specSchema,
    handedTo: specSchema.optional(),
    messages: z.array(messageSchema),
    step: count,
    usage: usageSchema,
    subAgentUsage: usageSchema.optional(),
    lastAnswer: z.string(),
    lastOutput: z.record(z.string(), z.unknown()).optional(),
    startedAtMs: z.number().int().nonnegative(),
    budget: budgetMemorySchema.optional(),
    turn: turnSchema.optional(),
    queued: z.array(userMessageText).optional(),
    steering: z.array(userMessageText).optional(),
    ending: z.boolean().optional(),
  });
}

/** Whether a carried step's results match the tool calls of `last`, the transcript's last message. */
function pendingStepFits(step: PendingStep, last: ChatMessage | undefined): boolean {
  const calls = last?.role === 'assistant' ? (last.tool_calls ?? []) : [];
  return (
    step.cap <= calls.length &&
    step.results.length === step.cap &&
    step.approvals.every((approval) => approval.index < step.cap && step.results[approval.index] === null)
  );
}

/** The state this run continues from, checked; undefined for a fresh start. */
export function acceptCarriedState(carried: unknown): CarriedState | undefined {
  if (carried === undefined) return undefined;
  if (!workflowInfo().continuedFromExecutionRunId) {
    throw invalidInput(
      'agentRun takes one argument; a second (continuation state) is accepted only from the run it continues',
    );
  }
  const parsed = carriedStateSchema()
    .refine((state) => !state.turn || state.turn.start < state.messages.length, {
      message: 'the turn starts past the end of the transcript',
      path: ['turn', 'start'],
    })
    .refine((state) => !state.turn?.pendingStep || pendingStepFits(state.turn.pendingStep, state.messages.at(-1)), {
      message: "the step's calls are not those of the transcript's last answer",
      path: ['turn', 'pendingStep'],
    })
    .safeParse(carried);
  if (!parsed.success) throw invalidInput(`continuation state: ${describeIssues(parsed.error)}`);
  return parsed.data as CarriedState;
}

/**
 * Schemas of every payload a caller sends a run: the `agentRun` input, validated inside the workflow
 * so that a run started from the plain Temporal CLI gets the same checks as one started from code,
 * and the payloads of the `message` signal and the `chat` and `approval` updates.
 */
import { z } from 'zod';
import { Bounds } from './defaults';
import { LimitName, RunMode } from './types';
import { boundedString, serializedBytes } from './validation';

const positive = z.number().positive();
/** The deepest nesting a run may allow: each level is a run and a workflow id longer by a call id. */
const MAX_DEPTH_LIMIT = 8;

/** Budgets; each is optional and unbounded when absent. */
export const budgetsSchema = z
  .object({
    [LimitName.maxSteps]: z.number().int().positive(),
    [LimitName.maxTokens]: z.number().int().positive(),
    [LimitName.maxCostUsd]: positive,
    [LimitName.maxDurationSeconds]: positive,
  })
  .partial()
  .strict();

/**
 * A run's budgets and guards. The budgets apply to a task run as a whole and to each turn of a
 * session; `lifetime` bounds a session's whole life (and a task's, where it adds nothing new).
 * `maxRepeats`: the same tool call (or nothing but already-seen tool results) this many answers in a
 * row is a stuck loop. `maxToolCallsPerTurn`: tool calls run per model answer; the excess is answered
 * to the model as not run. `maxOutputRepairs`: times an answer that does not fit the agent's output
 * schema goes back to the model with what was wrong, before the run fails `OutputInvalid`.
 */
export const limitsSchema = budgetsSchema
  .extend({
    // One repeat is normal (a retry after a fix elsewhere); the guard starts at two.
    maxRepeats: z.number().int().min(2),
    maxToolCallsPerTurn: z.number().int().positive(),
    // How many levels of sub-agents may run below this run (0: its sub-agent calls are tool errors).
    maxDepth: z.number().int().min(0).max(MAX_DEPTH_LIMIT),
    maxOutputRepairs: z.number().int().nonnegative().max(10),
    lifetime: budgetsSchema,
  })
  .partial()
  .strict();

/** Models to fall back to, in order; a handful at most. */
export const fallbackModelsSchema = z.array(boundedString(Bounds.nameBytes).min(1)).max(8);

export const messageTextSchema = boundedString(Bounds.messageBytes).trim().min(1, 'must not be empty');

/** Payload of the `message` signal and the `chat` update. */
export const userMessageSchema = z.object({ text: messageTextSchema }).strict();

/** Where a decision was made, as the caller says: the durable-agents CLI, or `AgentClient` from code. */
export const ApprovalSurface = { cli: 'cli', client: 'client' } as const;
export type ApprovalSurface = (typeof ApprovalSurface)[keyof typeof ApprovalSurface];

/** Arguments an approver edited: a JSON object, no larger than the model's own arguments may be. */
const editedArgumentsSchema = z
  .record(z.string(), z.unknown())
  .refine((args) => serializedBytes(args) <= Bounds.toolArgumentsBytes, {
    message: `must be at most ${Bounds.toolArgumentsBytes} bytes as JSON`,
  });

/**
 * Payload of the `approval` update. `args` (with an approval only) replace the arguments the model
 * wrote, checked against the tool's schema before the decision counts; `decidedBy` and `via` say who
 * decided, and where, for the record.
 */
export const approvalDecisionSchema = z
  .object({
    callId: boundedString(Bounds.callIdBytes),
    approve: z.boolean(),
    note: boundedString(Bounds.noteBytes).optional(),
    args: editedArgumentsSchema.optional(),
    decidedBy: boundedString(Bounds.nameBytes).min(1).optional(),
    via: z.enum([ApprovalSurface.cli, ApprovalSurface.client]).optional(),
  })
  .strict()
  .refine((decision) => decision.args === undefined || decision.approve, {
    message: 'edited arguments come only with an approval (approve: true)',
    path: ['args'],
  });

/**
 * Set by a parent run on the input of a sub-agent's run (accepted only from a parent workflow): the
 * agents from the root down to this run, and what the tree has left for it. Each cap bounds the
 * sub-agent's own limit of that name; `maxDepth` how many levels may still run below it.
 */
export const subAgentLinkSchema = z
  .object({
    path: z
      .array(boundedString(Bounds.nameBytes).min(1))
      .min(1)
      .max(MAX_DEPTH_LIMIT + 1),
    caps: budgetsSchema
      .omit({ [LimitName.maxSteps]: true })
      .extend({ maxDepth: z.number().int().min(0).max(MAX_DEPTH_LIMIT) })
      .strict(),
  })
  .strict();

export const agentRunInputSchema = z
  .object({
    agent: boundedString(Bounds.nameBytes).min(1, 'must name an agent'),
    message: messageTextSchema,
    userId: boundedString(Bounds.userIdBytes).min(1).optional(),
    model: boundedString(Bounds.nameBytes).min(1).optional(),
    mode: z.enum([RunMode.task, RunMode.session]).default(RunMode.task),
    idleTimeoutSeconds: positive.optional(),
    approvalTimeoutSeconds: positive.optional(),
    limits: limitsSchema.optional(),
    fallbackModels: fallbackModelsSchema.optional(),
    subAgent: subAgentLinkSchema.optional(),
  })
  .strict();

export type Budgets = z.infer<typeof budgetsSchema>;
export type Limits = z.infer<typeof limitsSchema>;
/** Payload of the `message` signal and the `chat` update. */
export type UserMessage = z.infer<typeof userMessageSchema>;
/** Payload of the `approval` update. */
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

export type SubAgentLink = z.infer<typeof subAgentLinkSchema>;

const count = z.number().int().nonnegative();
const tokenUsageSchema = z.object({
  inputTokens: count,
  outputTokens: count,
  totalTokens: count,
  cachedInputTokens: count.optional(),
  reasoningTokens: count.optional(),
  costUsd: z.number().nonnegative(),
  estimated: z.literal(true).optional(),
});

/** Usage as a run reports it (`Usage`), checked when another run sends it. */
export const usageSchema = tokenUsageSchema.extend({
  costKnown: z.boolean(),
  byModel: z
    .record(boundedString(Bounds.nameBytes), tokenUsageSchema.extend({ calls: count }))
    .refine((models) => Object.keys(models).length <= 64, 'at most 64 models')
    .optional(),
});

/** The calls waiting for approval a sub-agent reports at most; more would crowd its parent's state. */
const MAX_REPORTED_APPROVALS = 64;

/**
 * Payload of the `subAgentReport` signal, which a sub-agent's run sends its parent's as it goes: its
 * tree's usage so far, and the calls waiting for approval in it (ids as it lists them).
 */
export const subAgentReportSchema = z
  .object({
    workflowId: boundedString(Bounds.workflowIdBytes),
    usage: usageSchema,
    pendingApprovals: z
      .array(
        z
          .object({
            callId: boundedString(Bounds.callIdBytes),
            tool: boundedString(Bounds.nameBytes),
            args: z.unknown().refine((args) => serializedBytes(args) <= Bounds.toolArgumentsBytes, 'args too large'),
            agentPath: z
              .array(boundedString(Bounds.nameBytes))
              .max(MAX_DEPTH_LIMIT + 1)
              .optional(),
          })
          .strict(),
      )
      .max(MAX_REPORTED_APPROVALS),
  })
  .strict();
export type SubAgentReport = z.infer<typeof subAgentReportSchema>;

/** Input as a caller writes it (optional fields may be left out). */
export type AgentRunInput = z.input<typeof agentRunInputSchema>;
/** Input after validation and defaults. */
export type ParsedAgentRunInput = z.output<typeof agentRunInputSchema>;

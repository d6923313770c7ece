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
 * to the model as not run.
 */
export const limitsSchema = budgetsSchema
  .extend({
    // One repeat is normal (a retry after a fix elsewhere); the guard starts at two.
    maxRepeats: z.number().int().min(2),
    maxToolCallsPerTurn: z.number().int().positive(),
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
  })
  .strict();

export type Budgets = z.infer<typeof budgetsSchema>;
export type Limits = z.infer<typeof limitsSchema>;
/** Payload of the `message` signal and the `chat` update. */
export type UserMessage = z.infer<typeof userMessageSchema>;
/** Payload of the `approval` update. */
export type ApprovalDecision = z.infer<typeof approvalDecisionSchema>;

/** Input as a caller writes it (optional fields may be left out). */
export type AgentRunInput = z.input<typeof agentRunInputSchema>;
/** Input after validation and defaults. */
export type ParsedAgentRunInput = z.output<typeof agentRunInputSchema>;

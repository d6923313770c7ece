/**
 * Reading a model's answer: whatever an OpenAI-compatible endpoint sends is checked against the
 * Chat Completions shape before the run sees it. An answer off that shape (content that is not text,
 * usage that is not token counts, a malformed tool call, an answer too big for a payload) is a
 * retryable `ModelBadResponse`, so it can never crash the workflow or poison its search attributes.
 */
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { Bounds } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import { addBilledParts, costOf, type BilledParts, type PriceTable } from '../src/pricing';
import { serializedBytes, utf8Bytes } from '../src/validation';
import type { ModelCallResult } from '../src/activity-contract';
import { reportedUsage, type CallUsage } from './usage-estimate';

/** At most this many problems are listed in a failure message (2,500 bad tool calls make 2,500). */
const LISTED_ISSUES = 3;

/** A token count: absent or null when the endpoint reports none (counted by estimate then), anything else must be a count. */
const tokenCount = z
  .number()
  .int()
  .nonnegative()
  .nullish()
  .transform((count) => count ?? undefined);

const toolCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const completionSchema = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({
          // Absent means no text, as null does (some endpoints omit it next to tool calls).
          content: z
            .string()
            .nullish()
            .transform((content) => content ?? null),
          tool_calls: z.array(toolCallSchema).nullish(),
        }),
        // Informational only: an endpoint that sends something odd here loses nothing by it.
        finish_reason: z
          .unknown()
          .optional()
          .transform((reason) => (typeof reason === 'string' ? reason : null)),
      }),
    )
    .min(1),
  usage: z
    .object({
      prompt_tokens: tokenCount,
      completion_tokens: tokenCount,
      // The parts of each count billed apart: input read from the prompt cache, output spent reasoning.
      prompt_tokens_details: z.object({ cached_tokens: tokenCount }).nullish(),
      completion_tokens_details: z.object({ reasoning_tokens: tokenCount }).nullish(),
    })
    .nullish(),
});

function badResponse(message: string): ApplicationFailure {
  return withoutStack(ApplicationFailure.retryable(message, ErrorType.ModelBadResponse));
}

/**
 * What `value` is, without what it says: its kind and size. A failure's message lands in history,
 * the server's database, worker logs and spans, in clear even when payloads are encrypted, so what a
 * model wrote never goes into one.
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string of ${utf8Bytes(value)} bytes`;
  if (Array.isArray(value)) return `a list of ${value.length} items`;
  if (typeof value === 'object') return `an object with ${Object.keys(value).length} keys`;
  return typeof value === 'undefined' ? 'missing' : `a ${typeof value}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** What was wrong, for the failure message: a few problems by path, and what the first bad value was (never its content). */
function describeOffSpec(completion: unknown, error: z.ZodError): string {
  const { issues } = error;
  const listed = issues
    .slice(0, LISTED_ISSUES)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(answer)'}: ${issue.message}`);
  if (issues.length > LISTED_ISSUES) listed.push(`and ${issues.length - LISTED_ISSUES} more`);
  const first = issues[0];
  const bad = valueAt(completion, first.path);
  return `model answered off-spec: ${listed.join('; ')} (${first.path.join('.') || 'answer'} was ${describeValue(bad)})`;
}

/**
 * The cached input and reasoning tokens an answer reported, each only when above 0 (so results without
 * them keep their shape) and never more than the count it is part of: a report that says otherwise is
 * believed only as far as it can be true. Estimated usage has no parts.
 */
function billedParts(reported: z.infer<typeof completionSchema>['usage'], usage: CallUsage): BilledParts {
  if (usage.estimated) return {};
  const cached = Math.min(reported?.prompt_tokens_details?.cached_tokens ?? 0, usage.inputTokens);
  const reasoning = Math.min(reported?.completion_tokens_details?.reasoning_tokens ?? 0, usage.outputTokens);
  return addBilledParts(undefined, { cachedInputTokens: cached, reasoningTokens: reasoning });
}

/**
 * The activity's result for `completion`, the body the endpoint answered for `model` to a request of
 * `requestBytes`; throws a retryable `ModelBadResponse` when it is off the Chat Completions shape or
 * too big for a payload. Well-formed tool calls come back however many there are: the run decides
 * how many it runs. Usage the endpoint did not report is estimated from the sizes, and marked so.
 */
export function parseCompletion(
  completion: unknown,
  model: string,
  prices: PriceTable,
  requestBytes = 0,
): ModelCallResult {
  const parsed = completionSchema.safeParse(completion);
  if (!parsed.success) throw badResponse(describeOffSpec(completion, parsed.error));
  const [choice] = parsed.data.choices;
  const toolCalls = choice.message.tool_calls ?? [];
  const usage = reportedUsage(parsed.data.usage, {
    requestBytes,
    answerBytes: utf8Bytes(choice.message.content ?? '') + (toolCalls.length ? serializedBytes(toolCalls) : 0),
  });
  const { inputTokens, outputTokens } = usage;
  const parts = billedParts(parsed.data.usage, usage);
  const cost = costOf(prices, model, { inputTokens, outputTokens, ...parts });
  const result: ModelCallResult = {
    model,
    message: {
      role: 'assistant',
      content: choice.message.content,
      ...(toolCalls.length && { tool_calls: toolCalls }),
    },
    finishReason: choice.finish_reason,
    inputTokens,
    outputTokens,
    ...parts,
    costUsd: cost.costUsd,
    costKnown: cost.known,
    ...(usage.estimated && { usageEstimated: true as const }),
  };
  // Temporal rejects a payload over 2 MB; an answer that big would fail the activity on every retry anyway.
  const bytes = serializedBytes(result);
  if (bytes > Bounds.payloadBytes) {
    throw badResponse(
      `model answered off-spec: the answer is ${bytes} bytes, over the ${Bounds.payloadBytes}-byte payload bound`,
    );
  }
  return result;
}

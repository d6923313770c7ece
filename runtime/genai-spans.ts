/**
 * A span per model call and per tool call, after OpenTelemetry's GenAI semantic conventions
 * (`chat <model>`, `execute_tool <tool>`), as a child of the attempt's `RunActivity` span. It says
 * which agent, step, model and tool, the tokens and finish reasons, and how a failed call failed;
 * never what was said: no message contents, tool arguments or results, which may hold secrets.
 *
 * Built from the activity's input and result, so the activities know nothing of tracing. Local
 * activities (the fast path) run through the same interceptors and get the same spans.
 */
import { SpanKind, SpanStatusCode, type Attributes, type Tracer } from '@opentelemetry/api';
import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { z } from 'zod';

/** The attributes of these spans: the GenAI conventions' names, and the run's under `agent.`/`temporal.`. */
export const SpanAttribute = {
  system: 'gen_ai.system',
  operation: 'gen_ai.operation.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  toolName: 'gen_ai.tool.name',
  toolCallId: 'gen_ai.tool.call.id',
  errorType: 'error.type',
  agent: 'agent.name',
  step: 'agent.step',
  workflowId: 'temporal.workflow_id',
  runId: 'temporal.run_id',
  activityType: 'temporal.activity_type',
  attempt: 'temporal.attempt',
} as const;

export const GenAiOperation = { chat: 'chat', executeTool: 'execute_tool' } as const;

/** Every model call goes to an OpenAI-compatible endpoint through the `openai` client. */
const GEN_AI_SYSTEM = 'openai';

/** `error.type` of a tool call that returned `ok: false`: its arguments did not fit the tool's schema. */
const REJECTED_ARGUMENTS = 'ToolArgumentsRejected';

// Inputs and results come from the run's history: each field is read only if it has the right shape.
const text = z.string().optional().catch(undefined);
const count = z.number().int().nonnegative().optional().catch(undefined);
const modelInput = z.object({ agent: text, model: text, step: count });
const modelResult = z.object({ model: text, finishReason: text, inputTokens: count, outputTokens: count });
const toolInput = z.object({ agent: text, tool: text, callId: text });
const toolResult = z.object({ ok: z.boolean().optional().catch(undefined) });

/** What one call's span is: its name, kind and attributes at the start, and what its result adds. */
interface CallSpan {
  name: string;
  kind: SpanKind;
  attributes: Attributes;
  /** The result's attributes, and the error type when the call returned a failure rather than threw one. */
  ended(result: unknown): { attributes: Attributes; errorType?: string };
}

/** Attributes without the fields that were absent or malformed. */
function defined(attributes: Record<string, string | number | string[] | undefined>): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined)) as Attributes;
}

function modelCallSpan(input: unknown): CallSpan {
  const { agent, model, step } = modelInput.catch({}).parse(input);
  return {
    name: model ? `${GenAiOperation.chat} ${model}` : GenAiOperation.chat,
    kind: SpanKind.CLIENT,
    attributes: defined({
      [SpanAttribute.operation]: GenAiOperation.chat,
      [SpanAttribute.requestModel]: model,
      [SpanAttribute.agent]: agent,
      [SpanAttribute.step]: step,
    }),
    ended(result) {
      const answer = modelResult.catch({}).parse(result);
      return {
        attributes: defined({
          [SpanAttribute.responseModel]: answer.model,
          [SpanAttribute.inputTokens]: answer.inputTokens,
          [SpanAttribute.outputTokens]: answer.outputTokens,
          [SpanAttribute.finishReasons]: answer.finishReason === undefined ? undefined : [answer.finishReason],
        }),
      };
    },
  };
}

/** The step of a tool call from its id: the workflow numbers calls `<step>.<n>` (workflows/tool-calls.ts). */
export function stepOfCall(callId: string | undefined): number | undefined {
  const match = callId === undefined ? null : /^(\d+)\.\d+$/.exec(callId);
  return match ? Number(match[1]) : undefined;
}

function toolCallSpan(input: unknown): CallSpan {
  const { agent, tool, callId } = toolInput.catch({}).parse(input);
  return {
    name: tool ? `${GenAiOperation.executeTool} ${tool}` : GenAiOperation.executeTool,
    kind: SpanKind.INTERNAL,
    attributes: defined({
      [SpanAttribute.operation]: GenAiOperation.executeTool,
      [SpanAttribute.toolName]: tool,
      [SpanAttribute.toolCallId]: callId,
      [SpanAttribute.agent]: agent,
      [SpanAttribute.step]: stepOfCall(callId),
    }),
    ended: (result) => ({
      attributes: {},
      ...(toolResult.catch({}).parse(result).ok === false && { errorType: REJECTED_ARGUMENTS }),
    }),
  };
}

/** The activities that are model or tool calls, by type. */
const CALL_SPANS: Record<string, (input: unknown) => CallSpan> = {
  callModel: modelCallSpan,
  summarizeConversation: modelCallSpan,
  runTool: toolCallSpan,
};

function runAttributes(info: Info): Attributes {
  return defined({
    [SpanAttribute.system]: GEN_AI_SYSTEM,
    [SpanAttribute.workflowId]: info.workflowExecution?.workflowId,
    [SpanAttribute.runId]: info.workflowExecution?.runId,
    [SpanAttribute.activityType]: info.activityType,
    [SpanAttribute.attempt]: info.attempt,
  });
}

/** The failure's type as Temporal records it (`ModelRateLimited`, `ToolFailed`, ...), else the error's class. */
function errorTypeOf(error: unknown): string {
  if (error instanceof ApplicationFailure && error.type) return error.type;
  return error instanceof Error ? error.name : typeof error;
}

/** Activity interceptors that give each model and tool call its GenAI span, from `tracer`. */
export function genAiSpans(tracer: Tracer): ActivityInterceptorsFactory {
  return (context) => ({
    inbound: {
      execute(input, next) {
        const span = CALL_SPANS[context.info.activityType]?.(input.args[0]);
        if (!span) return next(input);
        const attributes = { ...span.attributes, ...runAttributes(context.info) };
        return tracer.startActiveSpan(span.name, { kind: span.kind, attributes }, async (active) => {
          try {
            const result = await next(input);
            const { attributes: more, errorType } = span.ended(result);
            active.setAttributes(more);
            if (errorType) {
              active.setAttribute(SpanAttribute.errorType, errorType);
              active.setStatus({ code: SpanStatusCode.ERROR });
            }
            return result;
          } catch (error) {
            // The type only: a failure's message may quote the provider or the tool.
            active.setAttribute(SpanAttribute.errorType, errorTypeOf(error));
            active.setStatus({ code: SpanStatusCode.ERROR });
            throw error;
          } finally {
            active.end();
          }
        });
      },
    },
  });
}

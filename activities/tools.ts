/**
 * Tool activities: validate a call's arguments against the tool's zod schema and run the tool.
 * Arguments the schema rejects come back as a result for the model to read, not as a failure.
 * What a tool throws reaches the model (and so the model provider and the run's history) only when
 * it was written for it: a `ToolError`, or anything from a tool with `exposeErrors`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ensureApplicationFailure } from '@temporalio/common';
import { ErrorType, ToolError } from '../src/errors';
import type { AgentRegistry } from '../src/registry';
import type { ToolDefinition } from '../src/tool';
import { describeIssues, truncateUtf8, utf8Bytes } from '../src/validation';
import { withoutStack } from '../src/failures';
import { startHeartbeats } from './heartbeat';
import { withRecordedInput } from './local-record';
import { recordToolCall, ToolOutcome } from './metrics';
import type { ArgumentCheck, ToolCallInput, ToolCallOutcome, ToolNotRegisteredDetails } from '../src/activity-contract';

/** What the model reads of an exception that was not written for it (the worker's log has the exception). */
export const UNEXPECTED_FAILURE = 'an unexpected error occurred';

export interface ToolActivityDeps {
  registry: AgentRegistry;
  /** Longer results (UTF-8 bytes) are cut, with a note, so no payload nears Temporal's limits. */
  resultMaxBytes: number;
  /** How long a call whose tool this worker does not register is scheduled again, for a worker that does. */
  unknownAgentWaitMs: number;
  /** Calls a tool of an MCP server (activities/mcp-calls.ts). */
  callMcpTool(input: ToolCallInput & { mcp: NonNullable<ToolCallInput['mcp']> }): Promise<ToolCallOutcome>;
}

/**
 * The idempotency key of one logical tool call, `<workflowId>/<runChainId>/<callId>`: the same across
 * retries, crashes, replays and continue-as-new, and different for a later run that reuses the
 * workflow id. Calls of runs started before the chain id was sent keep their `<workflowId>/<callId>`.
 */
export function idempotencyKey(workflowId: string, callId: string, runChainId?: string): string {
  return runChainId ? `${workflowId}/${runChainId}/${callId}` : `${workflowId}/${callId}`;
}

/** Cuts a serialized result to `maxBytes` of UTF-8, saying so in a way the model understands. */
export function limitResult(content: string, maxBytes: number): string {
  const bytes = utf8Bytes(content);
  if (bytes <= maxBytes) return content;
  return JSON.stringify({
    truncated: true,
    note: `The result had ${bytes} bytes; only the first ${maxBytes} are shown.`,
    partial: truncateUtf8(content, maxBytes),
  });
}

/**
 * The failure of a call whose tool (`what`) this worker does not register. Retrying here would spend
 * the tool's attempts on this worker: the run schedules the call again, for another worker of the
 * queue, for as long as this worker's setting says (`details`).
 */
export function toolNotRegistered(what: string, unknownAgentWaitMs: number): ApplicationFailure {
  const details: ToolNotRegisteredDetails = { waitMs: unknownAgentWaitMs };
  return withoutStack(
    ApplicationFailure.create({
      message: `${what} is not registered on this worker`,
      type: ErrorType.ToolNotRegistered,
      nonRetryable: true,
      details: [details],
    }),
  );
}

/**
 * Whether `args` need approval, by the tool's own `requiresApproval(args)`. One that throws asks for
 * approval: a rule that cannot answer must not let a call through unasked (the worker's log has why).
 */
async function approvalByArguments(tool: ToolDefinition, args: unknown, agent: string): Promise<boolean> {
  try {
    return Boolean(await (tool.requiresApproval as (args: unknown) => unknown)(args));
  } catch (error) {
    Context.current().log.warn(`requiresApproval of tool ${tool.name} threw: the call waits for approval`, {
      tool: tool.name,
      agent,
      error,
    });
    return true;
  }
}

/** How a tool call that threw ended (the failures `execute` throws, or the cancellation). */
function failureOutcome(error: unknown): ToolOutcome {
  if (Context.current().cancellationSignal.aborted) return ToolOutcome.cancelled;
  return error instanceof ApplicationFailure && error.type === ErrorType.ToolError
    ? ToolOutcome.error
    : ToolOutcome.failed;
}

export function createToolActivities({ registry, resultMaxBytes, unknownAgentWaitMs, callMcpTool }: ToolActivityDeps) {
  function findTool(agentName: string, toolName: string): ToolDefinition {
    const tool = registry.get(agentName)?.tools.find((candidate) => candidate.name === toolName);
    if (!tool) throw toolNotRegistered(`tool "${toolName}" of agent "${agentName}"`, unknownAgentWaitMs);
    return tool;
  }

  function validate(tool: ToolDefinition, args: unknown) {
    const parsed = tool.input.safeParse(args);
    return parsed.success
      ? ({ ok: true, args: parsed.data } as const)
      : ({ ok: false, error: `Invalid arguments for tool "${tool.name}": ${describeIssues(parsed.error)}` } as const);
  }

  /** Runs the tool once, under the call's idempotency key. */
  async function execute(input: ToolCallInput): Promise<ToolCallOutcome> {
    const tool = findTool(input.agent, input.tool);
    const checked = validate(tool, input.args);
    if (!checked.ok) return checked;
    const context = Context.current();
    // Tools always run inside an agent run; the fallback only satisfies activities started standalone.
    const workflowId = context.info.workflowExecution?.workflowId ?? context.info.activityId;
    // The worker heartbeats while the tool runs, whether or not the tool does: a dead worker's call is
    // retried after the heartbeat timeout, and a cancellation reaches `ctx.signal` within the throttle.
    const heartbeats = startHeartbeats(context);
    let result: unknown;
    try {
      result = await tool.execute(checked.args, {
        idempotencyKey: idempotencyKey(workflowId, input.callId, input.runChainId),
        signal: context.cancellationSignal,
        heartbeat: (details) => heartbeats.heartbeat(details),
        attempt: context.info.attempt,
        workflowId,
        agent: input.agent,
      });
    } catch (error) {
      // Whatever a cancelled tool throws (an AbortError, a driver's "query cancelled"), the call was
      // cancelled: rethrowing the cancellation lets the worker report it so, and no message leaks.
      if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
      if (error instanceof ToolError) {
        throw withoutStack(
          ApplicationFailure.create({
            message: error.message,
            type: ErrorType.ToolError,
            nonRetryable: !error.retryable,
          }),
        );
      }
      // What Temporal would have recorded for the exception: its type, retryability and message.
      const thrown = ensureApplicationFailure(error);
      // The exception may carry what no model should read (connection strings, keys): it stays in
      // the worker's log, with what it takes to find the call (the activity logger adds the workflow
      // id, run id and attempt).
      context.log.warn(`tool ${tool.name} failed unexpectedly`, {
        tool: tool.name,
        agent: input.agent,
        callId: input.callId,
        error,
      });
      throw withoutStack(
        ApplicationFailure.create({
          message: tool.exposeErrors ? thrown.message : UNEXPECTED_FAILURE,
          type: ErrorType.ToolFailed,
          // The type is now ToolFailed, so the tool's nonRetryableErrorTypes are matched here, against the exception's.
          nonRetryable: thrown.nonRetryable || (tool.retry?.nonRetryableErrorTypes ?? []).includes(thrown.type ?? ''),
          nextRetryDelay: thrown.nextRetryDelay,
        }),
      );
    } finally {
      heartbeats.stop();
    }
    return { ok: true, content: limitResult(JSON.stringify(result ?? null), resultMaxBytes) };
  }

  return {
    /**
     * Validates arguments without running the tool (before a call is put to a person for approval, and
     * an approval's edited arguments) and, for a tool whose approval depends on its arguments, asks it
     * whether these need one: here, so that the answer is recorded and replay never asks again.
     */
    async checkToolArguments(input: Omit<ToolCallInput, 'callId'>): Promise<ArgumentCheck> {
      const tool = findTool(input.agent, input.tool);
      const checked = validate(tool, input.args);
      if (!checked.ok) return checked;
      if (typeof tool.requiresApproval !== 'function') return { ok: true, content: '' };
      return { ok: true, content: '', requiresApproval: await approvalByArguments(tool, checked.args, input.agent) };
    },

    async runTool(input: ToolCallInput): Promise<ToolCallOutcome> {
      const startedAtMs = Date.now();
      let outcome: ToolCallOutcome;
      try {
        outcome = await (input.mcp ? callMcpTool({ ...input, mcp: input.mcp }) : execute(input));
      } catch (error) {
        recordToolCall(input.agent, input.tool, failureOutcome(error));
        throw error;
      }
      recordToolCall(input.agent, input.tool, outcome.ok ? ToolOutcome.ok : ToolOutcome.rejected);
      return withRecordedInput(outcome, { callId: input.callId }, startedAtMs);
    },
  };
}

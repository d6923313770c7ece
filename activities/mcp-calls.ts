/**
 * A run's requests to its MCP servers, on the worker that holds the connections: the listing of a
 * server's tools at a run's (or a session turn's) start, and each call, with the run's idempotency
 * key in the request's `_meta`. What a server answers becomes text the model reads, bounded; what
 * goes wrong becomes a typed failure that Temporal retries, in words of our own unless the server's
 * definition sets `exposeErrors` (a transport's message may hold a URL with a token).
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorCode, McpError, type CallToolResult, type ContentBlock } from '@modelcontextprotocol/sdk/types.js';
import type { McpListInput, McpToolList, ToolCallInput, ToolCallOutcome } from '../src/activity-contract';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import type { McpServerDefinition } from '../src/mcp-server';
import type { AgentRegistry } from '../src/registry';
import { startHeartbeats } from './heartbeat';
import { McpSettingMissing, type McpConnections } from './mcp-connections';
import { withoutUrlSecrets } from './model-errors';
import { idempotencyKey, limitResult, toolNotRegistered } from './tools';

/** The `_meta` key of a call's idempotency key: the same for every attempt of one logical call. */
export const IDEMPOTENCY_META_KEY = 'durable-agents/idempotencyKey';

/** How much sooner than the attempt's own timeout a request to the server times out, so the failure is a typed one. */
const REQUEST_TIMEOUT_MARGIN_MS = 1_000;

export interface McpCallDeps {
  registry: AgentRegistry;
  mcpConnections: McpConnections;
  resultMaxBytes: number;
  /** How long a request whose agent or server this worker does not register is scheduled again, for another. */
  unknownAgentWaitMs: number;
}

/** Bytes of the data a base64 string holds. */
function base64Bytes(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.max(0, Math.floor((data.length * 3) / 4) - padding);
}

const NOT_SHOWN = 'not shown: a tool result reaches the model as text';

/** One content block as text: text as it is, binary content described (a tool message carries no images). */
function blockText(block: ContentBlock): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}, ${base64Bytes(block.data)} bytes, ${NOT_SHOWN}]`;
    case 'resource_link':
      return `[resource link ${block.uri}${block.name ? ` (${block.name})` : ''}]`;
    case 'resource': {
      const { resource } = block;
      if ('text' in resource) return `[resource ${resource.uri}]\n${resource.text}`;
      return `[resource ${resource.uri}${resource.mimeType ? ` ${resource.mimeType}` : ''}, ${base64Bytes(resource.blob)} bytes, ${NOT_SHOWN}]`;
    }
  }
}

/**
 * What the model reads of a call's result: its content as text; its structured content, as JSON,
 * when it has no content (MCP asks servers to put the same JSON, or its words, in a text block too).
 */
export function mcpResultText(result: CallToolResult): string {
  const content = result.content ?? [];
  if (!content.length && result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return content.map(blockText).join('\n');
}

/**
 * What the worker's log says of a failed request: the error's name, code and message (URLs without
 * credentials or queries), never its other fields: a process that would not start carries its
 * arguments (`spawnargs`), where a `fromEnv` secret may be.
 */
export function loggedMcpError(error: unknown): { name?: string; code?: string | number; message: string } {
  if (typeof error !== 'object' || error === null) return { message: withoutUrlSecrets(String(error)) };
  const { name, code, message } = error as { name?: unknown; code?: unknown; message?: unknown };
  return {
    ...(typeof name === 'string' && { name }),
    ...((typeof code === 'string' || typeof code === 'number') && { code }),
    message: withoutUrlSecrets(String(message ?? error)),
  };
}

/** What a failed request to `server` is, as a typed failure for Temporal to retry; the server's words only with `exposeErrors`. */
export function mcpFailure(error: unknown, server: McpServerDefinition, request: string, timeoutMs: number) {
  const who = `MCP server "${server.name}"`;
  const detail = server.exposeErrors ? `: ${(error as Error)?.message ?? String(error)}` : '';
  const failure = (type: ErrorType, message: string, nonRetryable = false) =>
    withoutStack(ApplicationFailure.create({ type, message, nonRetryable }));
  if (error instanceof McpSettingMissing) return failure(ErrorType.McpServerUnavailable, error.message, true);
  if (error instanceof McpError && error.code === ErrorCode.RequestTimeout) {
    return failure(ErrorType.McpTimeout, `${who} did not answer ${request} within ${timeoutMs / 1000} s`);
  }
  if (error instanceof McpError && error.code !== ErrorCode.ConnectionClosed) {
    return failure(ErrorType.McpProtocolError, `${who} answered ${request} with error ${error.code}${detail}`);
  }
  if (typeof error === 'object' && error !== null && 'issues' in error) {
    return failure(ErrorType.McpProtocolError, `${who} answered ${request} with something that is not MCP${detail}`);
  }
  const how = 'command' in server ? 'its process would not start, or exited' : 'its URL did not answer';
  return failure(ErrorType.McpServerUnavailable, `${who} is unavailable (${how})${detail}`);
}

export function createMcpCalls(deps: McpCallDeps) {
  const { registry, mcpConnections, resultMaxBytes, unknownAgentWaitMs } = deps;

  /** The definition of `server`, when this worker registers `agent` using it. */
  function serverOf(agent: string, server: string): McpServerDefinition {
    const registered = registry.get(agent);
    const definition = registered && registry.mcpServersOf(registered).find((candidate) => candidate.name === server);
    if (!definition) throw toolNotRegistered(`MCP server "${server}" of agent "${agent}"`, unknownAgentWaitMs);
    return definition;
  }

  return {
    /** The tools of a run's server: from this worker's cached list while it is fresh; `unchanged` when the run has it. */
    async list({ agent, server, known }: McpListInput): Promise<McpToolList> {
      const definition = serverOf(agent, server);
      let listing;
      try {
        listing = await mcpConnections.of(definition).list();
      } catch (error) {
        Context.current().log.warn(`listing the tools of MCP server ${server} failed`, {
          server,
          agent,
          error: loggedMcpError(error),
        });
        throw mcpFailure(error, definition, 'tools/list', Context.current().info.startToCloseTimeoutMs);
      }
      const { fingerprint, tools, leftOut } = listing;
      if (known === fingerprint) return { server, fingerprint, unchanged: true };
      return { server, fingerprint, tools, ...(leftOut.length > 0 && { leftOut }) };
    },

    /** Calls an MCP tool once; an `isError` result is the tool's answer: the model reads it as an error. */
    async call(input: ToolCallInput & { mcp: { server: string; tool: string } }): Promise<ToolCallOutcome> {
      const definition = serverOf(input.agent, input.mcp.server);
      const context = Context.current();
      const workflowId = context.info.workflowExecution?.workflowId ?? context.info.activityId;
      const key = idempotencyKey(workflowId, input.callId, input.runChainId);
      const attemptMs = context.info.startToCloseTimeoutMs;
      const timeoutMs = Math.max(attemptMs / 2, attemptMs - REQUEST_TIMEOUT_MARGIN_MS);
      const heartbeats = startHeartbeats(context);
      let result: CallToolResult;
      try {
        result = await mcpConnections.of(definition).call(
          input.mcp.tool,
          input.args as Record<string, unknown>,
          { [IDEMPOTENCY_META_KEY]: key },
          {
            // Aborting the request sends the server `notifications/cancelled`.
            signal: context.cancellationSignal,
            timeoutMs,
            onprogress: ({ progress, total }) => heartbeats.heartbeat({ progress, total }),
          },
        );
      } catch (error) {
        if (context.cancellationSignal.aborted) throw context.cancellationSignal.reason;
        context.log.warn(`MCP tool ${input.tool} failed`, {
          tool: input.tool,
          agent: input.agent,
          error: loggedMcpError(error),
        });
        throw mcpFailure(error, definition, `tools/call ${input.mcp.tool}`, timeoutMs);
      } finally {
        heartbeats.stop();
      }
      const content = limitResult(mcpResultText(result), resultMaxBytes);
      return result.isError ? { ok: false, error: content } : { ok: true, content };
    },
  };
}

/**
 * Tool definitions: a name, a zod schema for the arguments, and the code that runs as an activity.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import { z } from 'zod';
import { DefinitionError } from './errors';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  /**
   * Stable for one logical tool call across activity retries, worker crashes, replays and
   * continue-as-new: use it to deduplicate side effects (payments, emails, writes).
   */
  idempotencyKey: string;
  /** Fires when the run cancels the call; reaches the tool through heartbeats. */
  signal: AbortSignal;
  /** Records progress and lets cancellation reach the tool; set `heartbeatTimeout` on long tools. */
  heartbeat(details?: unknown): void;
  /** 1 on the first try, then 2, 3, ... on retries. */
  attempt: number;
  workflowId: string;
  /** Name of the agent whose run made the call. */
  agent: string;
}

/** What a tool author writes. */
export interface ToolConfig<Schema extends z.ZodObject> {
  /** Sent to the model; letters, digits, `_` and `-` only (the OpenAI function-name rule). */
  name: string;
  description: string;
  input: Schema;
  execute(args: z.output<Schema>, ctx: ToolContext): unknown | Promise<unknown>;
  /** Hold every call until a person approves it (see the `approval` update). */
  requiresApproval?: boolean;
  /** Start-to-close timeout of one attempt (default 60s). */
  timeout?: Duration;
  /** Set on long tools so a dead worker is noticed quickly; the tool must then call `ctx.heartbeat()`. */
  heartbeatTimeout?: Duration;
  /** Temporal retry policy of the tool's activity (default: 3 attempts, 1s backoff doubling). */
  retry?: RetryPolicy;
  /** Run this tool's activity on another task queue, e.g. workers near a private system. */
  taskQueue?: string;
}

/** A defined tool; agents list these. */
export type ToolDefinition = ToolConfig<z.ZodObject> & { readonly kind: 'tool' };

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Defines a tool; checks the definition at once so a bad one stops the worker at start-up. */
export function defineTool<Schema extends z.ZodObject>(config: ToolConfig<Schema>): ToolDefinition {
  if (typeof config?.name !== 'string' || !TOOL_NAME.test(config.name)) {
    throw new DefinitionError(`tool name ${JSON.stringify(config?.name)} must match ${TOOL_NAME}`);
  }
  if (typeof config.description !== 'string' || !config.description.trim()) {
    throw new DefinitionError(`tool "${config.name}" needs a description: the model chooses tools by it`);
  }
  if (!(config.input instanceof z.ZodObject)) {
    throw new DefinitionError(`tool "${config.name}": input must be a zod object schema (z.object({...}))`);
  }
  if (typeof config.execute !== 'function') {
    throw new DefinitionError(`tool "${config.name}": execute must be a function`);
  }
  return { ...(config as unknown as ToolConfig<z.ZodObject>), kind: 'tool' };
}

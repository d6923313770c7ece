/**
 * Tool definitions: a name, a zod schema for the arguments, and the code that runs as an activity.
 */
import { compileRetryPolicy, type Duration, type RetryPolicy } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { DEFAULT_TOOL_RETRY } from './defaults';
import { DefinitionError } from './errors';
import { namesOf, unknownNames } from './suggest';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  /**
   * Stable for one logical tool call across activity retries, worker crashes, replays and
   * continue-as-new: use it to deduplicate side effects (payments, emails, writes).
   */
  idempotencyKey: string;
  /** Fires when the run is cancelled or its deadline passes, within about a second (the worker heartbeats for the tool). */
  signal: AbortSignal;
  /** Records progress details (kept across the worker's own heartbeats, which run while the tool does). */
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
  /**
   * Hold calls until a person approves them (see the `approval` update): `true` every call, or a
   * function of the call's (validated) arguments, such as `(args) => args.amountUsd > 100`, that says
   * which. The function runs in the activity that checks the arguments, so its answer is recorded;
   * one that throws holds the call for approval.
   */
  requiresApproval?: boolean | ((args: z.output<Schema>) => boolean | Promise<boolean>);
  /** Start-to-close timeout of one attempt (default 60s). */
  timeout?: Duration;
  /**
   * How soon a dead worker's call is retried (default 10 s). The worker heartbeats while the tool
   * runs, so only a tool that blocks the event loop for longer needs a longer one.
   */
  heartbeatTimeout?: Duration;
  /** Temporal retry policy of the tool's activity (default: 3 attempts, 1s backoff doubling). */
  retry?: RetryPolicy;
  /** Run this tool's activity on another task queue, e.g. workers near a private system. */
  taskQueue?: string;
  /**
   * Run this tool as a local activity (true) or a regular one (false), whatever the agent's
   * `localActivities` or the worker's `LOCAL_ACTIVITIES` say. A local tool runs on the worker running
   * the run's workflow task, so it cannot have a `taskQueue`; after a crash it may run again, with the
   * same idempotency key (README: The local-activity fast path).
   */
  local?: boolean;
  /**
   * Let the model read the message of any exception `execute` throws. Off by default: only a
   * `ToolError`'s message reaches the model (and so the model provider and the run's history); any
   * other exception is logged on the worker and the model reads only that the tool failed
   * unexpectedly, so secrets a library puts in its errors (connection strings, keys) stay on the worker.
   * Turn it on only for tools whose errors are written for the model.
   */
  exposeErrors?: boolean;
}

/** A defined tool; agents list these. */
export type ToolDefinition = ToolConfig<z.ZodObject> & { readonly kind: 'tool' };

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Every option `defineTool` knows; anything else is a typo it rejects, not an option it ignores. */
const TOOL_OPTIONS = namesOf<ToolConfig<z.ZodObject>>({
  name: true,
  description: true,
  input: true,
  execute: true,
  requiresApproval: true,
  timeout: true,
  heartbeatTimeout: true,
  retry: true,
  taskQueue: true,
  local: true,
  exposeErrors: true,
});

/** Every field of a retry policy: a misspelt one (`maxAttempts`) would leave the default in force unnoticed. */
const RETRY_OPTIONS = namesOf<RetryPolicy>({
  initialInterval: true,
  backoffCoefficient: true,
  maximumInterval: true,
  maximumAttempts: true,
  nonRetryableErrorTypes: true,
});

/** Whether `value` is a positive duration Temporal accepts: milliseconds, or a string like "30s". */
export function isDuration(value: unknown): boolean {
  try {
    const ms = msToNumber(value as Duration);
    return Number.isFinite(ms) && ms > 0;
  } catch {
    return false;
  }
}

/**
 * What is wrong with the options that change how a tool runs, or undefined. A wrong type there would
 * not fail loudly: `requiresApproval: "false"` would count as true, and a bad duration or retry policy
 * would fail runs (or leave them stuck) instead of the worker's start-up.
 */
function policyProblem(config: ToolConfig<z.ZodObject>): string | undefined {
  const approval = config.requiresApproval;
  if (approval !== undefined && typeof approval !== 'boolean' && typeof approval !== 'function') {
    return `requiresApproval must be true, false or a function of the arguments such as (args) => args.amountUsd > 100, not ${JSON.stringify(approval)}`;
  }
  for (const flag of ['exposeErrors', 'local'] as const) {
    if (config[flag] !== undefined && typeof config[flag] !== 'boolean') {
      return `${flag} must be true or false, not ${JSON.stringify(config[flag])}`;
    }
  }
  if (config.taskQueue !== undefined && !(typeof config.taskQueue === 'string' && config.taskQueue.trim())) {
    return `taskQueue must be the name of a task queue, not ${JSON.stringify(config.taskQueue)}`;
  }
  if (config.local && config.taskQueue !== undefined) {
    return 'a local tool runs on the worker running its workflow, so it cannot have a taskQueue: drop one of them';
  }
  for (const option of ['timeout', 'heartbeatTimeout'] as const) {
    if (config[option] !== undefined && !isDuration(config[option])) {
      return `${option} must be a positive duration such as "30s" or 30000 (milliseconds), not ${JSON.stringify(config[option])}`;
    }
  }
  if (config.retry === undefined) return undefined;
  if (typeof config.retry !== 'object' || config.retry === null || Array.isArray(config.retry)) {
    return `retry must be a retry policy object such as { maximumAttempts: 3 }, not ${JSON.stringify(config.retry)}`;
  }
  const unknownRetry = unknownNames(config.retry, RETRY_OPTIONS, 'retry option');
  if (unknownRetry) return unknownRetry;
  try {
    // The policy the tool's activity will get: checked now rather than when a run first schedules it.
    compileRetryPolicy({ ...DEFAULT_TOOL_RETRY, ...config.retry });
  } catch (error) {
    return `retry: ${(error as Error).message}`;
  }
  return undefined;
}

/** Defines a tool; checks the definition at once so a bad one stops the worker at start-up. */
export function defineTool<Schema extends z.ZodObject>(config: ToolConfig<Schema>): ToolDefinition {
  const unknown = unknownNames(config, TOOL_OPTIONS, 'option');
  if (unknown) {
    const label = typeof config.name === 'string' ? `tool ${JSON.stringify(config.name)}` : 'tool without a name';
    throw new DefinitionError(`${label}: ${unknown}`);
  }
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
  const problem = policyProblem(config as unknown as ToolConfig<z.ZodObject>);
  if (problem) throw new DefinitionError(`tool "${config.name}": ${problem}`);
  return { ...(config as unknown as ToolConfig<z.ZodObject>), kind: 'tool' };
}

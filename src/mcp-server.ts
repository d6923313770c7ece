/**
 * MCP server definitions: a stdio command or a Streamable HTTP (SSE fallback) URL whose tools an
 * agent's runs offer the model. What a run records of a server is its policy (`McpServerSpec`) and
 * the tools it listed; how to reach it, secrets included, stays in the worker's definition.
 */
import { compileRetryPolicy, type Duration, type RetryPolicy } from '@temporalio/common';
import { z } from 'zod';
import { DEFAULT_TOOL_RETRY } from './defaults';
import { DefinitionError } from './errors';
import { unknownNames } from './suggest';
import { isDuration } from './tool';
import { describeIssues } from './validation';

/** A value read from the worker's environment when the server is started: `fromEnv('GITHUB_TOKEN')`. */
export interface EnvReference {
  fromEnv: string;
}

/** Names `variable` of the worker's environment as a value of `env`, `headers`, `args` or `url`. */
export function fromEnv(variable: string): EnvReference {
  return { fromEnv: variable };
}

/** An MCP server name: it prefixes its tools' names (`<server>_<tool>`), so it is short. */
export const MCP_SERVER_NAME = /^[a-zA-Z0-9-]{1,32}$/;

const ENV_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A string, whose `${VAR}` references the worker fills in from its environment, or `fromEnv('VAR')`. */
const workerValue = z.union([
  z.string(),
  z.strictObject({ fromEnv: z.string().regex(ENV_VARIABLE, 'must be the name of an environment variable') }),
]);

const duration = z.custom<Duration>(isDuration, 'must be a positive duration such as "30s" or 30000 (milliseconds)');

const retrySchema = z
  .strictObject({
    initialInterval: duration.optional(),
    backoffCoefficient: z.number().optional(),
    maximumInterval: duration.optional(),
    maximumAttempts: z.number().int().nonnegative().optional(),
    nonRetryableErrorTypes: z.array(z.string()).optional(),
  })
  .superRefine((retry, context) => {
    try {
      compileRetryPolicy({ ...DEFAULT_TOOL_RETRY, ...retry });
    } catch (error) {
      context.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

/** The options every server takes, whatever its transport. */
const policyShape = {
  name: z.string().regex(MCP_SERVER_NAME, `must match ${MCP_SERVER_NAME}`),
  /**
   * Hold calls until a person approves them: `true` for every tool of the server, or a list of its
   * tool names (as the server names them), each of which may hold `*` and `?` (`['write_*']`).
   */
  requiresApproval: z.union([z.boolean(), z.array(z.string().min(1)).min(1)]).optional(),
  /** Start-to-close timeout of one call (default 60 s): the request to the server times out a little sooner. */
  timeout: duration.optional(),
  /** How soon a dead worker's call is retried (default 10 s). */
  heartbeatTimeout: duration.optional(),
  /** Temporal retry policy of each call (default: 3 attempts, 1 s backoff doubling). */
  retry: retrySchema.optional(),
  /** Run this server's calls (and listings) on another task queue, e.g. workers near a private system. */
  taskQueue: z.string().trim().min(1).optional(),
  /** Let the model read the server's own error messages (transport failures, protocol errors). */
  exposeErrors: z.boolean().optional(),
};

const stdioSchema = z.strictObject({
  ...policyShape,
  command: z.string().min(1),
  args: z.array(workerValue).optional(),
  env: z.record(z.string().regex(ENV_VARIABLE), workerValue).optional(),
  cwd: z.string().min(1).optional(),
});

const httpSchema = z.strictObject({
  ...policyShape,
  /** An http(s) URL; `${VAR}` references in it are filled in by the worker. */
  url: workerValue.refine(
    (url) => typeof url !== 'string' || url.includes('${') || z.url({ protocol: /^https?$/ }).safeParse(url).success,
    'must be an http or https URL',
  ),
  headers: z.record(z.string().min(1), workerValue).optional(),
});

export type StdioMcpServerConfig = z.input<typeof stdioSchema>;
export type HttpMcpServerConfig = z.input<typeof httpSchema>;
/** What an agent author writes: `{ name, command, args, env, cwd }` or `{ name, url, headers }`, and the policy. */
export type McpServerConfig = StdioMcpServerConfig | HttpMcpServerConfig;
/** A defined MCP server; agents list these (or their names, when a plug-in module exports them). */
export type McpServerDefinition = (z.output<typeof stdioSchema> | z.output<typeof httpSchema>) & {
  readonly kind: 'mcpServer';
};

/** Defines an MCP server; checks it at once so that a bad one stops the worker at start-up. */
export function defineMcpServer(config: McpServerConfig): McpServerDefinition {
  const label = typeof config?.name === 'string' ? `MCP server ${JSON.stringify(config.name)}` : 'MCP server';
  if (typeof config !== 'object' || config === null) throw new DefinitionError(`${label}: needs an object`);
  const stdio = 'command' in config;
  if (stdio === 'url' in config) {
    throw new DefinitionError(`${label}: give either command (a stdio server) or url (an HTTP server)`);
  }
  const schema = stdio ? stdioSchema : httpSchema;
  // The schema would say "unrecognized key"; this names the option that was probably meant.
  const unknown = unknownNames(config, Object.keys(schema.shape), 'option');
  if (unknown) throw new DefinitionError(`${label}: ${unknown}`);
  const parsed = schema.safeParse(config);
  if (!parsed.success) throw new DefinitionError(`${label}: ${describeIssues(parsed.error)}`);
  return { ...parsed.data, kind: 'mcpServer' };
}

/** Whether `value` is a `defineMcpServer(...)` result. */
export function isMcpServerDefinition(value: unknown): value is McpServerDefinition {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'mcpServer';
}

/** A server as a run records it: its name and the policy of its calls; nothing about how to reach it. */
export interface McpServerSpec {
  name: string;
  requiresApproval: boolean | string[];
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs: number;
  retry: RetryPolicy;
  taskQueue?: string;
  /** The fingerprint of the tool list the run uses now (absent until it listed them). */
  listed?: string;
}

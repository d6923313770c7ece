/**
 * Configuration from the environment, so agents never know which cloud they run on: the same code
 * reaches a local dev server or Temporal Cloud, and any OpenAI-compatible endpoint.
 *
 * Where Temporal is comes from `@temporalio/envconfig`: the standard `TEMPORAL_*` variables and the
 * TOML profiles the `temporal` CLI shares (`TEMPORAL_PROFILE`, `TEMPORAL_CONFIG_FILE`), so one
 * profile serves the CLI, the worker and the client.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import { z } from 'zod';
import {
  DEFAULT_HEARTBEAT_THROTTLE_MS,
  DEFAULT_HELPDESK_LEDGER,
  DEFAULT_MODEL,
  DEFAULT_MODEL_HEARTBEAT_SECONDS,
  DEFAULT_MODEL_MAX_ATTEMPTS,
  DEFAULT_MODEL_RATE_LIMIT_SECONDS,
  DEFAULT_MODEL_TIMEOUT_SECONDS,
  DEFAULT_MODEL_UNAVAILABLE_SECONDS,
  DEFAULT_MODEL_UNPARSED_ATTEMPTS,
  DEFAULT_MODEL_STRUCTURED_OUTPUT,
  DEFAULT_TASK_QUEUE,
  DEFAULT_TEMPORAL_NAMESPACE,
  DEFAULT_TOOL_RESULT_MAX_BYTES,
  DEFAULT_CONTEXT_COMPACT_AT,
  DEFAULT_CONTINUE_AS_NEW_AT_BYTES,
  DEFAULT_HEALTH_HOST,
  DEFAULT_METRICS_HOST,
  DEFAULT_TRANSCRIPT_CACHE_MB,
  DEFAULT_TRANSCRIPT_MAX_BYTES,
  DEFAULT_UNKNOWN_AGENT_WAIT_SECONDS,
  DEFAULT_MCP_LIST_TTL_SECONDS,
  DEFAULT_WORKER_STICKY_TIMEOUT_SECONDS,
  DEFAULT_SHUTDOWN_GRACE_SECONDS,
  HISTORY_LIMITS,
} from './defaults';
import { ConfigError } from './errors';
import { foundTemporalAddress, type AddressFrom } from './temporal-address';
import { LocalCallKind, UsageAttributes } from './types';
import { describeIssues } from './validation';

type Env = Record<string, string | undefined>;

/**
 * What a worker polls (`WORKER_ROLE`, `--role`): the run loop (`TASK_QUEUE`), model calls
 * (`MODEL_TASK_QUEUE`), tool calls (`TOOL_TASK_QUEUE`), or all three, so each pool is sized and
 * deployed on its own.
 */
export const WorkerRole = { workflows: 'workflows', model: 'model', tools: 'tools', all: 'all' } as const;
export type WorkerRole = (typeof WorkerRole)[keyof typeof WorkerRole];
export const WORKER_ROLES: readonly WorkerRole[] = Object.values(WorkerRole);

/** How the worker prints its log (`LOG_FORMAT`): one line of text per entry, or one JSON object per line for log shippers. */
export const LogFormat = { text: 'text', json: 'json' } as const;
export type LogFormat = (typeof LogFormat)[keyof typeof LogFormat];

const LOCAL_CALL_KINDS: readonly string[] = Object.values(LocalCallKind);

/** `model,tools`, `model`, `tools`, or `none` (the default): the kinds of call, each at most once. */
const localCallKinds = z
  .string()
  .default('none')
  .transform((list, context) => {
    const kinds = list === 'none' ? [] : list.split(',').map((kind) => kind.trim());
    const wrong = kinds.find((kind) => !LOCAL_CALL_KINDS.includes(kind));
    if (wrong !== undefined || new Set(kinds).size !== kinds.length) {
      context.addIssue({
        code: 'custom',
        message: `must be model, tools, model,tools or none, not ${JSON.stringify(list)}`,
      });
      return z.NEVER;
    }
    return kinds as LocalCallKind[];
  });

const flag = z.enum(['true', 'false', '1', '0']);
const port = z.coerce.number().int().min(0).max(65_535);
/** An IP address to listen on: the metrics exporter (Temporal's core, in Rust) binds an address, never a host name. */
const listenAddress = z.union([z.ipv4(), z.ipv6()], {
  error: 'must be an IP address to listen on, such as 127.0.0.1 (loopback), 0.0.0.0 (every interface) or ::1',
});
const seconds = z.coerce.number().positive();

/** Variables this project reads itself; envconfig reads the rest of `TEMPORAL_*`. */
const temporalEnvSchema = z.object({
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** Payload encryption keys, `id:base64key,...`; kept raw here, parsed (and checked) by codec/. */
  PAYLOAD_KEYS: z.string().optional(),
  /**
   * Set: spans are exported over OTLP/HTTP to this collector (src/tracing.ts). The OpenTelemetry SDK
   * reads it and its siblings (`OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, ...) itself; this
   * project only checks it and turns tracing on.
   */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
});

const workerEnvSchema = temporalEnvSchema.extend({
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  AGENT_MODEL: z.string().min(1).default(DEFAULT_MODEL),
  AGENT_MODULES: z.string().optional(),
  MODEL_TIMEOUT_SECONDS: seconds.default(DEFAULT_MODEL_TIMEOUT_SECONDS),
  MODEL_HEARTBEAT_SECONDS: seconds.default(DEFAULT_MODEL_HEARTBEAT_SECONDS),
  /** Whether model calls ask for a streamed answer (text reaches clients as it comes); on unless `false`/`0`. */
  MODEL_STREAMING: flag.default('true').transform((value) => value === 'true' || value === '1'),
  MODEL_MAX_ATTEMPTS: z.coerce.number().int().positive().default(DEFAULT_MODEL_MAX_ATTEMPTS),
  /** How long 429s are retried, apart from MODEL_MAX_ATTEMPTS. */
  MODEL_RATE_LIMIT_SECONDS: seconds.default(DEFAULT_MODEL_RATE_LIMIT_SECONDS),
  /** How long an outage of a call's last model is retried once its MODEL_MAX_ATTEMPTS are spent, from its first failure. */
  MODEL_UNAVAILABLE_SECONDS: seconds.default(DEFAULT_MODEL_UNAVAILABLE_SECONDS),
  /** Times a step asks again when the server could not parse the model's output, before an answer without tools. */
  MODEL_UNPARSED_ATTEMPTS: z.coerce.number().int().positive().default(DEFAULT_MODEL_UNPARSED_ATTEMPTS),
  /**
   * Whether the models take `response_format: json_schema`; `false`: agents with an output schema
   * answer through a final `answer` tool instead (an agent's own `structuredOutput` wins). Runs record it.
   */
  MODEL_STRUCTURED_OUTPUT: flag
    .default(DEFAULT_MODEL_STRUCTURED_OUTPUT ? 'true' : 'false')
    .transform((value) => value === 'true' || value === '1'),
  /** The request field of each model's output cap, JSON: {"model": "max_tokens" | "max_completion_tokens" | "both", "*": ...}. */
  MODEL_OUTPUT_CAP_PARAMETERS: z.string().optional(),
  /** When runs started here write their usage search attributes (`UsageAttributes`): `each-call` or `with-status`. */
  USAGE_ATTRIBUTES: z.enum(UsageAttributes).default(UsageAttributes.eachCall),
  /** The most time between two heartbeats reaching the server (both of the worker's heartbeat throttles). */
  HEARTBEAT_THROTTLE_MS: z.coerce.number().int().positive().default(DEFAULT_HEARTBEAT_THROTTLE_MS),
  /** How long a run's workflow task waits for the worker that ran its last one before any worker may take it. */
  WORKER_STICKY_TIMEOUT_SECONDS: seconds.default(DEFAULT_WORKER_STICKY_TIMEOUT_SECONDS),
  /**
   * How long a run (counted from its start), or a tool call, whose agent or tool this worker does not
   * register is left to workers that may register it before it fails; 0: fail at once.
   */
  UNKNOWN_AGENT_WAIT_SECONDS: z.coerce.number().nonnegative().default(DEFAULT_UNKNOWN_AGENT_WAIT_SECONDS),
  /** How long this worker answers listings of an MCP server's tools from its last one (unless the server says it changed). */
  MCP_LIST_TTL_SECONDS: z.coerce.number().nonnegative().default(DEFAULT_MCP_LIST_TTL_SECONDS),
  /** Extra or overriding prices, JSON: {"model": {"inputPerMillion": 0.15, "outputPerMillion": 0.6}}. */
  MODEL_PRICES: z.string().optional(),
  TOOL_RESULT_MAX_BYTES: z.coerce.number().int().positive().default(DEFAULT_TOOL_RESULT_MAX_BYTES),
  TRANSCRIPT_MAX_BYTES: z.coerce.number().int().positive().default(DEFAULT_TRANSCRIPT_MAX_BYTES),
  /** The worker's cache of recent runs' transcripts (model calls send only what changed), in MB. */
  TRANSCRIPT_CACHE_MB: z.coerce.number().positive().default(DEFAULT_TRANSCRIPT_CACHE_MB),
  /** Context windows of models the built-in table lacks or gets wrong, JSON: {"model": tokens}. */
  MODEL_CONTEXT_WINDOWS: z.string().optional(),
  /** The share of a model's context window past which the oldest part of the conversation is summarised. */
  CONTEXT_COMPACT_AT: z.coerce.number().gt(0).max(1).default(DEFAULT_CONTEXT_COMPACT_AT),
  /** A run continues as new between steps once its history passes this many bytes (or Temporal suggests it). */
  CONTINUE_AS_NEW_AT_BYTES: z.coerce.number().int().positive().default(DEFAULT_CONTINUE_AS_NEW_AT_BYTES),
  /** A run that cannot continue as new fails `HistoryLimit` once its history passes this size. */
  HISTORY_LIMIT_BYTES: z.coerce.number().int().positive().default(HISTORY_LIMITS.bytes),
  /** A prebuilt workflow bundle (from `bundleWorkflowCode`); without it the worker bundles at start. */
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
  HELPDESK_LEDGER: z.string().min(1).default(DEFAULT_HELPDESK_LEDGER),
  /**
   * Runs this worker keeps in memory between their workflow tasks (Temporal's `maxCachedWorkflows`;
   * unset: the SDK's default, from the memory available). Each costs about 1.7 MB; a run evicted
   * from the cache replays its history on its next task (README: Performance).
   */
  WORKFLOW_CACHE_SIZE: z.coerce.number().int().nonnegative().optional(),
  /**
   * Workflow tasks this worker runs at once (Temporal's `maxConcurrentWorkflowTaskExecutions`). A run
   * whose model call is a local activity holds its slot while the model answers, so the default is
   * 200 (or MODEL_CONCURRENCY, if larger) when LOCAL_ACTIVITIES names model calls, else Temporal's 40.
   */
  WORKFLOW_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Threads that run workflow code (Temporal's `workflowThreadPoolSize`, default 1): up to the worker's cores. */
  WORKFLOW_THREADS: z.coerce.number().int().positive().optional(),
  /** Calls that run as local activities on this worker unless an agent says otherwise: `model`, `tools`, both, or none. */
  LOCAL_ACTIVITIES: localCallKinds,
  WORKER_ROLE: z.enum(WORKER_ROLES).default(WorkerRole.all),
  /** Where model calls are scheduled (default: `callQueueDefaults`); the `model` role polls it. */
  MODEL_TASK_QUEUE: z.string().min(1).optional(),
  /** Where tool calls are scheduled (default: `callQueueDefaults`), unless a tool names its own; the `tools` role polls it. */
  TOOL_TASK_QUEUE: z.string().min(1).optional(),
  /** Model calls a second across the whole fleet, enforced by the server for the model task queue. */
  MODEL_CALLS_PER_SECOND: z.coerce.number().positive().optional(),
  /**
   * Tokens a minute this worker's model calls may take (estimated before each call), a ceiling of its
   * own beside the provider's `x-ratelimit-*` headers, for endpoints that send none.
   */
  MODEL_TOKENS_PER_MINUTE: z.coerce.number().int().positive().optional(),
  /** Model calls this worker makes at once (local ones too, on the worker that runs them). */
  MODEL_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** Tool calls this worker runs at once (local ones too, on the worker that runs them). */
  TOOL_CONCURRENCY: z.coerce.number().int().positive().optional(),
  /** On SIGTERM or SIGINT, how long the calls in flight may take to finish before they are cancelled. */
  SHUTDOWN_GRACE_SECONDS: z.coerce.number().nonnegative().default(DEFAULT_SHUTDOWN_GRACE_SECONDS),
  /** Serves `/healthz` and `/readyz` on this port. */
  HEALTH_PORT: port.optional(),
  /** The address `HEALTH_PORT` listens on: loopback unless set (`0.0.0.0` for probes from outside). */
  HEALTH_HOST: listenAddress.default(DEFAULT_HEALTH_HOST),
  /** Serves Prometheus `/metrics` on this port. */
  METRICS_PORT: port.optional(),
  /** The address `METRICS_PORT` listens on: loopback unless set (`0.0.0.0` for a scraper from outside). */
  METRICS_HOST: listenAddress.default(DEFAULT_METRICS_HOST),
  LOG_FORMAT: z.enum(Object.values(LogFormat)).default(LogFormat.text),
  /** Worker Deployment versioning: the deployment this worker belongs to, and its build (both or neither). */
  WORKER_DEPLOYMENT_NAME: z.string().min(1).optional(),
  WORKER_BUILD_ID: z.string().min(1).optional(),
});

/** Options for both `Connection.connect` (clients) and `NativeConnection.connect` (workers). */
export type TemporalConnectionOptions = Pick<NativeConnectionOptions, 'address' | 'apiKey' | 'tls' | 'metadata'> & {
  address: string;
};

export interface TemporalConfig {
  TEMPORAL_ADDRESS: string;
  /** Why `TEMPORAL_ADDRESS` is the one (named by a flag, the variable or a profile, or found): set by the loaders. */
  addressFrom?: AddressFrom;
  TEMPORAL_NAMESPACE: string;
  TASK_QUEUE: string;
  /** Set: payloads are encrypted with the first key and decrypted with any (codec/). */
  PAYLOAD_KEYS?: string;
  /** Set: the client's and worker's spans are exported there (README: Tracing and logs). */
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  connection: TemporalConnectionOptions;
}
export type WorkerConfig = Omit<
  z.output<typeof workerEnvSchema>,
  'TEMPORAL_TLS' | 'TEMPORAL_PROFILE' | 'MODEL_TASK_QUEUE' | 'TOOL_TASK_QUEUE'
> &
  TemporalConfig & { MODEL_TASK_QUEUE: string; TOOL_TASK_QUEUE: string };

/** Names this project used before; they keep working for one release, with a warning. */
const LEGACY_NAMES: Record<string, string> = {
  TEMPORAL_TLS_CERT: 'TEMPORAL_TLS_CLIENT_CERT_PATH',
  TEMPORAL_TLS_KEY: 'TEMPORAL_TLS_CLIENT_KEY_PATH',
  TOOL_RESULT_MAX_CHARS: 'TOOL_RESULT_MAX_BYTES',
  TRANSCRIPT_MAX_CHARS: 'TRANSCRIPT_MAX_BYTES',
};

/** `env` without variables set to nothing: `MODEL_TIMEOUT_SECONDS=` means "use the default", as shells intend. */
function setVariables(env: Env): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => Boolean(entry[1])));
}

function withStandardNames(env: Record<string, string>): Record<string, string> {
  const renamed = { ...env };
  for (const [legacy, standard] of Object.entries(LEGACY_NAMES)) {
    if (env[legacy] === undefined) continue;
    process.emitWarning(`${legacy} is deprecated and will be removed in the next release: use ${standard}`, {
      type: 'DeprecationWarning',
      code: `DURABLE_AGENTS_${legacy}`,
    });
    renamed[standard] ??= env[legacy];
  }
  return renamed;
}

function parseEnv<T extends z.ZodType>(schema: T, env: Record<string, string>): z.output<T> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(`invalid environment: ${describeIssues(result.error)}`);
  return result.data;
}

/**
 * The address envconfig resolved (a flag's, `TEMPORAL_ADDRESS`, a profile's) and why; else the one
 * found where nobody named one (src/temporal-address.ts: the dev server, TEMPORAL_PORT, the default).
 */
function addressOf(
  resolved: string | undefined,
  env: Record<string, string>,
  parsed: z.output<typeof temporalEnvSchema>,
  byFlag: boolean,
): { address: string; from: AddressFrom } {
  // ` host:7233 ` as a shell may leave it: the address, not a name no resolver knows.
  const named = resolved?.trim();
  if (!named) return foundTemporalAddress(env);
  if (byFlag) return { address: named, from: { source: 'flag', reason: '--address' } };
  if (env.TEMPORAL_ADDRESS) return { address: named, from: { source: 'TEMPORAL_ADDRESS', reason: 'TEMPORAL_ADDRESS' } };
  return { address: named, from: { source: 'profile', reason: `profile "${parsed.TEMPORAL_PROFILE ?? 'default'}"` } };
}

function resolveTemporal(
  env: Record<string, string>,
  parsed: z.output<typeof temporalEnvSchema>,
  byFlag = false,
): TemporalConfig {
  let resolved: ReturnType<typeof loadClientConnectConfig>;
  try {
    resolved = loadClientConnectConfig({ profile: parsed.TEMPORAL_PROFILE, overrideEnvVars: env });
  } catch (error) {
    throw new ConfigError(`Temporal connection settings: ${(error as Error).message}`);
  }
  const { apiKey, tls, metadata } = resolved.connectionOptions;
  const { address, from } = addressOf(resolved.connectionOptions.address, env, parsed, byFlag);
  return {
    TEMPORAL_ADDRESS: address,
    addressFrom: from,
    TEMPORAL_NAMESPACE: resolved.namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
    TASK_QUEUE: parsed.TASK_QUEUE,
    ...(parsed.PAYLOAD_KEYS && { PAYLOAD_KEYS: parsed.PAYLOAD_KEYS }),
    ...(parsed.OTEL_EXPORTER_OTLP_ENDPOINT && { OTEL_EXPORTER_OTLP_ENDPOINT: parsed.OTEL_EXPORTER_OTLP_ENDPOINT }),
    connection: {
      address,
      ...(apiKey && { apiKey }),
      ...(tls !== undefined && { tls }),
      ...(metadata && { metadata }),
    },
  };
}

/**
 * Where to connect, as a caller's flags say (the CLI's `--address`, `--namespace`, `--profile`): each
 * wins over its env twin (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_PROFILE`), and an
 * address or namespace also over the profile's, as the `temporal` CLI's flags do.
 */
export interface TemporalOverrides {
  address?: string;
  namespace?: string;
  profile?: string;
}

/** `env` with `overrides` in place of their env twins: one source of truth for what wins. */
export function withTemporalOverrides(env: Env, overrides: TemporalOverrides): Env {
  return {
    ...env,
    ...(overrides.address !== undefined && { TEMPORAL_ADDRESS: overrides.address }),
    ...(overrides.namespace !== undefined && { TEMPORAL_NAMESPACE: overrides.namespace }),
    ...(overrides.profile !== undefined && { TEMPORAL_PROFILE: overrides.profile }),
  };
}

/**
 * Reads what a client needs: where Temporal is and how to authenticate; `overrides` win over env.
 * Where no flag, variable or profile names an address, it is the dev server `./temporal-dev.sh` runs,
 * else TEMPORAL_PORT on loopback, else localhost:7233; `addressFrom` says which, and why.
 */
export function loadTemporalConfig(env: Env = process.env, overrides: TemporalOverrides = {}): TemporalConfig {
  const set = withStandardNames(setVariables(withTemporalOverrides(env, overrides)));
  return resolveTemporal(set, parseEnv(temporalEnvSchema, set), Boolean(overrides.address));
}

/** The queues a fleet by role sends model and tool calls to: `<TASK_QUEUE>-model` and `<TASK_QUEUE>-tools`. */
export function separateCallQueues(taskQueue: string): { model: string; tools: string } {
  return { model: `${taskQueue}-model`, tools: `${taskQueue}-tools` };
}

/**
 * Where model and tool calls go when MODEL_TASK_QUEUE and TOOL_TASK_QUEUE are not set. A worker of
 * every role (one worker: the demo, `dev`, most first deployments) keeps them on TASK_QUEUE, where it
 * hands each call to itself as it schedules it (eager dispatch) instead of paying a poll per call;
 * a limit of the calls' own (MODEL_CONCURRENCY, MODEL_CALLS_PER_SECOND, TOOL_CONCURRENCY) needs a
 * queue of their own. Any other role uses the separate queues, as a fleet by role does.
 */
function callQueueDefaults(parsed: z.output<typeof workerEnvSchema>): { model: string; tools: string } {
  const separate = separateCallQueues(parsed.TASK_QUEUE);
  if (parsed.WORKER_ROLE !== WorkerRole.all) return separate;
  const modelLimited = parsed.MODEL_CONCURRENCY !== undefined || parsed.MODEL_CALLS_PER_SECOND !== undefined;
  return {
    model: modelLimited ? separate.model : parsed.TASK_QUEUE,
    tools: parsed.TOOL_CONCURRENCY !== undefined ? separate.tools : parsed.TASK_QUEUE,
  };
}

/** Reads everything a worker needs; `overrides` (the CLI's flags) win over env, and Temporal is found as for a client. */
export function loadWorkerConfig(env: Env = process.env, overrides: TemporalOverrides = {}): WorkerConfig {
  const set = withStandardNames(setVariables(withTemporalOverrides(env, overrides)));
  const parsed = parseEnv(workerEnvSchema, set);
  if ((parsed.WORKER_DEPLOYMENT_NAME === undefined) !== (parsed.WORKER_BUILD_ID === undefined)) {
    throw new ConfigError('invalid environment: set WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID together, or neither');
  }
  const { TEMPORAL_TLS: _tls, TEMPORAL_PROFILE: _profile, ...worker } = parsed;
  const defaults = callQueueDefaults(parsed);
  const queues = {
    MODEL_TASK_QUEUE: parsed.MODEL_TASK_QUEUE ?? defaults.model,
    TOOL_TASK_QUEUE: parsed.TOOL_TASK_QUEUE ?? defaults.tools,
  };
  // A model or tools worker on the runs' own queue would be handed calls it does not register.
  const ownQueue = { model: 'MODEL_TASK_QUEUE', tools: 'TOOL_TASK_QUEUE' } as const;
  const role = parsed.WORKER_ROLE;
  if ((role === WorkerRole.model || role === WorkerRole.tools) && queues[ownQueue[role]] === parsed.TASK_QUEUE) {
    throw new ConfigError(
      `invalid environment: WORKER_ROLE=${role} would poll ${ownQueue[role]} "${parsed.TASK_QUEUE}", which is ` +
        `TASK_QUEUE, where every other call arrives too: give ${role} calls a queue of their own, or run ` +
        'WORKER_ROLE=workflows or all, which serves every call on TASK_QUEUE',
    );
  }
  return { ...worker, ...queues, ...resolveTemporal(set, parsed, Boolean(overrides.address)) };
}

/** The Temporal connection's standard variables, which `@temporalio/envconfig` reads. */
const TEMPORAL_STANDARD_ENV = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_CODEC_ENDPOINT',
  'TEMPORAL_CODEC_AUTH',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
] as const;

/** Every variable a worker reads: its own, the Temporal connection's, where a dev server is, and its log level. */
export const WORKER_ENV_NAMES: readonly string[] = [
  ...Object.keys(workerEnvSchema.shape),
  ...TEMPORAL_STANDARD_ENV,
  'TEMPORAL_PORT',
  'TEMPORAL_RUN_DIR',
  'WORKER_LOG_LEVEL',
];

/** `127.0.0.1:7233 (TEMPORAL_ADDRESS)`: where a config connects, and why there, for an entry's first line. */
export function describeAddress(config: Pick<TemporalConfig, 'TEMPORAL_ADDRESS' | 'addressFrom'>): string {
  return config.addressFrom ? `${config.TEMPORAL_ADDRESS} (${config.addressFrom.reason})` : config.TEMPORAL_ADDRESS;
}

/**
 * What the codec server's token may be: it is also the first path segment of the Web UI's codec
 * endpoint, so URL-safe characters only, and long enough that guessing it is hopeless.
 */
const CODEC_SERVER_TOKEN_PATTERN = /^[A-Za-z0-9._~-]{32,256}$/;

const codecServerEnvSchema = z.object({
  PAYLOAD_KEYS: z.string({ error: 'is not set: the codec server has no keys to decrypt with' }),
  // Messages never repeat the value: it is a secret, and a wrong one may be a secret meant elsewhere.
  CODEC_SERVER_TOKEN: z
    .string({
      error:
        'is not set: the codec server does not run without a token (e.g. export CODEC_SERVER_TOKEN=$(openssl rand -hex 32))',
    })
    .regex(
      CODEC_SERVER_TOKEN_PATTERN,
      'must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ - (e.g. openssl rand -hex 32)',
    ),
  CODEC_SERVER_PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  /** Checked by the codec server, which checks its `--ui-origin` option the same way. */
  CODEC_SERVER_UI_ORIGIN: z.string().optional(),
});
export type CodecServerConfig = z.output<typeof codecServerEnvSchema>;

/** Reads what `durable-agents codec-server` needs: the keys, its token, and optionally its port and UI origin. */
export function loadCodecServerConfig(env: Env = process.env): CodecServerConfig {
  return parseEnv(codecServerEnvSchema, setVariables(env));
}

/** `durable-agents mcp --http`: the bearer token, held to the codec server's token rule (long, URL-safe). */
const mcpServerEnvSchema = z.object({
  // As for the codec server's token, messages never repeat the value.
  MCP_SERVER_TOKEN: z
    .string()
    .regex(
      CODEC_SERVER_TOKEN_PATTERN,
      'must be 32 to 256 characters of A-Z a-z 0-9 . _ ~ - (e.g. openssl rand -hex 32)',
    )
    .optional(),
});
export type McpServerConfig = z.output<typeof mcpServerEnvSchema>;

/** Reads what `durable-agents mcp --http` needs from env: its bearer token, if one is set. */
export function loadMcpServerConfig(env: Env = process.env): McpServerConfig {
  return parseEnv(mcpServerEnvSchema, setVariables(env));
}

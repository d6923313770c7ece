/**
 * Configuration from the environment, so agents never know which cloud they run on: the same code
 * reaches a local dev server or Temporal Cloud, and any OpenAI-compatible endpoint.
 */
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from './contract';
import { describeIssues } from './input';

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');
const seconds = z.coerce.number().positive();

const temporalEnvSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Temporal Cloud API key; turns TLS on. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  TEMPORAL_TLS: flag.optional(),
  /** mTLS client certificate and key (PEM files), for namespaces that use certificates. */
  TEMPORAL_TLS_CERT: z.string().min(1).optional(),
  TEMPORAL_TLS_KEY: z.string().min(1).optional(),
  TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
});

const workerEnvSchema = temporalEnvSchema.extend({
  OPENAI_BASE_URL: z.url().optional(),
  OPENAI_API_KEY: z.string().min(1).optional(),
  AGENT_MODEL: z.string().min(1).default('gpt-4o-mini'),
  AGENT_MODULES: z.string().optional(),
  MODEL_TIMEOUT_SECONDS: seconds.default(120),
  MODEL_HEARTBEAT_SECONDS: seconds.default(30),
  MODEL_MAX_ATTEMPTS: z.coerce.number().int().positive().default(5),
  /** Extra or overriding prices, JSON: {"model": {"inputPerMillion": 0.15, "outputPerMillion": 0.6}}. */
  MODEL_PRICES: z.string().optional(),
  TOOL_RESULT_MAX_CHARS: z.coerce.number().int().positive().default(20_000),
  /** Far below Temporal's 2 MB payload limit even for text that takes 3 bytes a character. */
  TRANSCRIPT_MAX_CHARS: z.coerce.number().int().positive().default(500_000),
  /** A prebuilt workflow bundle (from `bundleWorkflowCode`); without it the worker bundles at start. */
  WORKFLOW_BUNDLE: z.string().min(1).optional(),
  HELPDESK_LEDGER: z.string().min(1).default('.data/refund-ledger.jsonl'),
});

export type TemporalConfig = z.output<typeof temporalEnvSchema>;
export type WorkerConfig = z.output<typeof workerEnvSchema>;

/** A configuration value that cannot work; the message names the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  // A variable set to nothing (`MODEL_TIMEOUT_SECONDS=`) means "use the default", as shells intend.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(set);
  if (!result.success) throw new ConfigError(`invalid environment: ${describeIssues(result.error)}`);
  return result.data;
}

/** Reads what a client needs: where Temporal is and how to authenticate. */
export function loadTemporalConfig(env: NodeJS.ProcessEnv = process.env): TemporalConfig {
  return parseEnv(temporalEnvSchema, env);
}

/** Reads everything a worker needs. */
export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(workerEnvSchema, env);
}

/**
 * Builds a worker from its configuration: the agents it can run (built-in and plug-in), the
 * activities over one shared `openai` client, and a connection to Temporal.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import OpenAI from 'openai';
import { createActivities } from '../activities';
import { displayEndpoint } from '../activities/model-errors';
import { readRunHistory, TranscriptStore } from '../activities/transcripts';
import { builtInAgents } from '../agents';
import { payloadCodecs } from '../codec';
import type { WorkerConfig } from '../src/config';
import type { PayloadKeyError } from '../src/errors';
import { buildContextWindows } from '../src/context-windows';
import { LOCAL_MODEL_WORKFLOW_CONCURRENCY } from '../src/defaults';
import { buildPriceTable } from '../src/pricing';
import { LocalCallKind } from '../src/types';
import { AgentRegistry } from '../src/registry';
import { loadAgentModule, parseModuleList } from './agent-modules';
import { callLogAttributes } from './logging';

/** The built-in agents plus those of every module in `AGENT_MODULES`; throws on any bad definition. */
export async function buildRegistry(config: WorkerConfig): Promise<AgentRegistry> {
  const registry = new AgentRegistry().add(builtInAgents({ helpdeskLedger: config.HELPDESK_LEDGER }), 'built-in');
  for (const path of parseModuleList(config.AGENT_MODULES)) {
    registry.add(await loadAgentModule(path), path);
  }
  return registry;
}

export interface AgentWorkerOptions {
  /**
   * Called when the worker meets a payload it cannot decrypt (a key id `PAYLOAD_KEYS` lacks, or a key
   * that fails authentication). The task fails and is retried, on this worker as on any other, so the
   * program (worker.ts) stops this one and lets workers holding the key take over.
   */
  onPayloadKeyError?: (error: PayloadKeyError) => void;
}

/** The model a worker calls when neither the run nor the agent names one, and where: for its first lines. */
export interface ModelEndpoint {
  model: string;
  /** The client's base URL (OpenAI's when `OPENAI_BASE_URL` is unset), without credentials or query. */
  endpoint: string;
  /** Whether `OPENAI_API_KEY` is set; the key itself is never shown. */
  apiKeySet: boolean;
}

/**
 * How many workflow tasks at once, on how many threads: as configured, else Temporal's defaults, but
 * room for a workflow task per local model call in flight (each holds its run's slot while it waits).
 */
function workflowTaskSettings(config: WorkerConfig) {
  const localModelCalls = config.LOCAL_ACTIVITIES.includes(LocalCallKind.model);
  const concurrency = config.WORKFLOW_CONCURRENCY ?? (localModelCalls ? LOCAL_MODEL_WORKFLOW_CONCURRENCY : undefined);
  return {
    ...(concurrency !== undefined && { maxConcurrentWorkflowTaskExecutions: concurrency }),
    ...(config.WORKFLOW_THREADS !== undefined && { workflowThreadPoolSize: config.WORKFLOW_THREADS }),
  };
}

/** Creates a worker for `config`; the caller runs it and closes `connection` afterwards. */
export async function createAgentWorker(
  config: WorkerConfig,
  registry?: AgentRegistry,
  options: AgentWorkerOptions = {},
): Promise<{ worker: Worker; connection: NativeConnection; registry: AgentRegistry; model: ModelEndpoint }> {
  // Bad PAYLOAD_KEYS stop the worker here, before it connects or takes any task.
  const codecs = payloadCodecs(config.PAYLOAD_KEYS, { onKeyError: options.onPayloadKeyError });
  const agents = registry ?? (await buildRegistry(config));
  const requestTimeoutMs = config.MODEL_TIMEOUT_SECONDS * 1000;
  const openai = new OpenAI({
    baseURL: config.OPENAI_BASE_URL,
    // Local OpenAI-compatible servers need no key, but the client insists on one.
    apiKey: config.OPENAI_API_KEY ?? 'no-key-set',
    maxRetries: 0,
    timeout: requestTimeoutMs,
  });
  const activities = createActivities({
    registry: agents,
    openai,
    prices: buildPriceTable(config.MODEL_PRICES),
    defaultModel: config.AGENT_MODEL,
    modelCall: {
      requestTimeoutMs,
      heartbeatTimeoutMs: config.MODEL_HEARTBEAT_SECONDS * 1000,
      maxAttempts: config.MODEL_MAX_ATTEMPTS,
      rateLimitBudgetMs: config.MODEL_RATE_LIMIT_SECONDS * 1000,
    },
    resultMaxBytes: config.TOOL_RESULT_MAX_BYTES,
    transcriptMaxBytes: config.TRANSCRIPT_MAX_BYTES,
    contextWindows: buildContextWindows(config.MODEL_CONTEXT_WINDOWS),
    contextCompactAt: config.CONTEXT_COMPACT_AT,
    continueAsNewAtBytes: config.CONTINUE_AS_NEW_AT_BYTES,
    historyLimitBytes: config.HISTORY_LIMIT_BYTES,
    localActivities: config.LOCAL_ACTIVITIES,
    transcripts: new TranscriptStore(config.TRANSCRIPT_CACHE_MB * 1024 * 1024, readRunHistory),
  });
  const connection = await NativeConnection.connect(config.connection).catch((error: Error) => {
    throw new Error(`cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (${error.message})`);
  });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      ...(config.WORKFLOW_BUNDLE
        ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE } }
        : { workflowsPath: require.resolve('../workflows') }),
      activities,
      // Log entries of a call name its model and step (or tool and call id) and its retry policy's attempts.
      interceptors: { activity: [callLogAttributes] },
      dataConverter: { payloadCodecs: codecs },
      shutdownGraceTime: '10s',
      // Heartbeats reach the server at least this often, with or without a heartbeat timeout (the SDK's
      // defaults are 30 s without one and 80% of it, up to 60 s, with one): a cancellation, which the
      // server hands out in answer to a heartbeat, reaches a running call within this much.
      maxHeartbeatThrottleInterval: config.HEARTBEAT_THROTTLE_MS,
      defaultHeartbeatThrottleInterval: config.HEARTBEAT_THROTTLE_MS,
      // After this worker dies, its runs' next workflow tasks wait this long for it (Temporal's default
      // is 10 s) before any worker may take them: part of every crash's recovery time.
      stickyQueueScheduleToStartTimeout: config.WORKER_STICKY_TIMEOUT_SECONDS * 1000,
      ...(config.WORKFLOW_CACHE_SIZE !== undefined && { maxCachedWorkflows: config.WORKFLOW_CACHE_SIZE }),
      ...workflowTaskSettings(config),
    });
    const model = {
      model: config.AGENT_MODEL,
      endpoint: displayEndpoint(openai.baseURL),
      apiKeySet: config.OPENAI_API_KEY !== undefined,
    };
    return { worker, connection, registry: agents, model };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

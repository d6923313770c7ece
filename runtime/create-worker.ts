/**
 * Builds a worker from its configuration: the agents it can run (built-in and plug-in), the
 * activities over one shared `openai` client, and a connection to Temporal.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  bundleWorkflowCode,
  DefaultLogger,
  NativeConnection,
  Runtime,
  Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import OpenAI from 'openai';
import { createActivities } from '../activities';
import { displayEndpoint } from '../activities/model-errors';
import { readRunHistory, TranscriptStore } from '../activities/transcript-store';
import { boundedFetch } from '../activities/bounded-body';
import { McpConnections } from '../activities/mcp-connections';
import { openAIErrorBodies } from '../activities/error-body-shape';
import { buildCapParameters } from '../activities/output-cap';
import { ModelCallPacer } from '../activities/rate-limit-pacing';
import { payloadCodecs, type EncryptionCodecOptions } from '../codec';
import { describeAddress, separateCallQueues, WorkerRole, type WorkerConfig } from '../src/config';
import { connectionCause, connectionHint } from '../src/connection-errors';
import { LOCAL_MODEL_WORKFLOW_CONCURRENCY } from '../src/defaults';
import { checkHandoffTargets } from '../src/handoff-targets';
import { specSettingsOf } from '../src/spec';
import { LocalCallKind } from '../src/types';
import type { AgentRegistry } from '../src/registry';
import { checkSubAgentTree } from '../src/sub-agent-definitions';
import { buildRegistry } from './agent-modules';
import { AgentWorker, type RoleWorker } from './agent-worker';
import { serverContextWindows } from './context-window-probe';
import { registeredOptionalAttributes } from './registered-search-attributes';
import { callLogAttributes } from './logging';
import { workerTracing } from './worker-tracing';
import { WORKFLOW_BUNDLE_MODULES, workflowBundleOptions } from './workflow-modules';

// The agents a worker registers (AGENT_MODULES, and the examples it names or the offline model brings).
export { buildRegistry };

export interface AgentWorkerOptions {
  /**
   * Called when the worker meets a payload it cannot decrypt (a key id `PAYLOAD_KEYS` lacks, or a key
   * that fails authentication), with the run or activity it belongs to. The task that carried it fails
   * and is retried, here as on any other worker; the worker goes on (serve-worker.ts tells and counts).
   */
  onPayloadKeyError?: EncryptionCodecOptions['onKeyError'];
}

/** The model a worker calls when neither the run nor the agent names one, and where: for its first lines. */
export interface ModelEndpoint {
  model: string;
  /** The client's base URL (OpenAI's when `OPENAI_BASE_URL` is unset), without credentials or query. */
  endpoint: string;
  /** Whether `OPENAI_API_KEY` is set; the key itself is never shown. */
  apiKeySet: boolean;
}

/** Temporal's defaults for what a worker runs at once (without a tuner), and on how many threads. */
const SDK_DEFAULTS = { activitySlots: 100, workflowTaskSlots: 40, workflowThreads: 1 } as const;

/**
 * How many workflow tasks and local calls at once, on how many threads: as configured, else Temporal's
 * defaults, but room for a workflow task per local model call in flight (each holds its run's slot
 * while it waits).
 */
function workflowTaskSettings(config: WorkerConfig) {
  const localModelCalls = config.LOCAL_ACTIVITIES.includes(LocalCallKind.model);
  const localToolCalls = config.LOCAL_ACTIVITIES.includes(LocalCallKind.tools);
  const concurrency =
    config.WORKFLOW_CONCURRENCY ??
    (localModelCalls ? Math.max(LOCAL_MODEL_WORKFLOW_CONCURRENCY, config.MODEL_CONCURRENCY ?? 0) : undefined);
  // Local calls run here, so they count against MODEL_CONCURRENCY and TOOL_CONCURRENCY here.
  const limitsLocalCalls =
    (localModelCalls && config.MODEL_CONCURRENCY !== undefined) ||
    (localToolCalls && config.TOOL_CONCURRENCY !== undefined);
  const localSlots =
    (localModelCalls ? (config.MODEL_CONCURRENCY ?? SDK_DEFAULTS.activitySlots) : 0) +
    (localToolCalls ? (config.TOOL_CONCURRENCY ?? SDK_DEFAULTS.activitySlots) : 0);
  return {
    ...(concurrency !== undefined && { maxConcurrentWorkflowTaskExecutions: concurrency }),
    ...(limitsLocalCalls && { maxConcurrentLocalActivityExecutions: localSlots }),
    ...(config.WORKFLOW_THREADS !== undefined && { workflowThreadPoolSize: config.WORKFLOW_THREADS }),
  };
}

/**
 * What a worker of `config` runs at once, Temporal's defaults filled in: model calls (when they are
 * local, the local-call slots, which local tool calls share), workflow tasks, and the threads that
 * run workflow code.
 */
export function workerSlots(config: WorkerConfig): {
  modelCalls: number;
  workflowTasks: number;
  workflowThreads: number;
} {
  const tuned = workflowTaskSettings(config);
  const localModelCalls = config.LOCAL_ACTIVITIES.includes(LocalCallKind.model);
  return {
    modelCalls: localModelCalls
      ? (tuned.maxConcurrentLocalActivityExecutions ?? SDK_DEFAULTS.activitySlots)
      : (config.MODEL_CONCURRENCY ?? SDK_DEFAULTS.activitySlots),
    workflowTasks: tuned.maxConcurrentWorkflowTaskExecutions ?? SDK_DEFAULTS.workflowTaskSlots,
    workflowThreads: tuned.workflowThreadPoolSize ?? SDK_DEFAULTS.workflowThreads,
  };
}

/** `WORKFLOW_BUNDLE`, else the bundle `npm run build` wrote beside the compiled worker (dist/workflow-bundle.js). */
function prebuiltBundle(config: WorkerConfig): string | undefined {
  const built = join(__dirname, '..', 'workflow-bundle.js');
  return config.WORKFLOW_BUNDLE ?? (existsSync(built) ? built : undefined);
}

/** The sources bundled in this process, with the sealed-failures converter (PAYLOAD_KEYS set) or without. */
const bundledSources = new Map<boolean, Promise<string>>();

/**
 * The workflow code: a prebuilt bundle, else the sources, bundled here at start as `npm run build`
 * bundles them (interceptors and converters included), with warnings and errors only in the log: the
 * webpack report of every module bundled is no line for a worker's first lines.
 */
async function workflowCode(config: WorkerConfig) {
  const prebuilt = prebuiltBundle(config);
  if (prebuilt) return { workflowBundle: { codePath: prebuilt } };
  const sealed = config.PAYLOAD_KEYS !== undefined;
  // Once per process and kind: workers made again in one process (tests, a restart) bundle no more.
  let code = bundledSources.get(sealed);
  if (!code) {
    code = bundleWorkflowCode({
      ...workflowBundleOptions(require.resolve('../workflows')),
      ...(sealed && { failureConverterPath: require.resolve('../codec/sealed-failures') }),
      logger: new DefaultLogger('WARN', (entry) =>
        Runtime.instance().logger.log(entry.level, entry.message, entry.meta),
      ),
    }).then((bundle) => bundle.code);
    bundledSources.set(sealed, code);
    code.catch(() => bundledSources.delete(sealed));
  }
  return { workflowBundle: { code: await code } };
}

/** The roles a `WORKER_ROLE` stands for. */
function rolesOf(role: WorkerRole): RoleWorker['role'][] {
  return role === WorkerRole.all ? [WorkerRole.workflows, WorkerRole.model, WorkerRole.tools] : [role];
}

type Activities = ReturnType<typeof createActivities>;

/**
 * What one role polls, and how: the run loop with every activity (local calls run there, and runs
 * started before calls had queues of their own schedule them on the run's queue), or the model calls
 * under the fleet's rate limit, or the tool calls.
 */
async function roleOptions(role: RoleWorker['role'], config: WorkerConfig, activities: Activities) {
  switch (role) {
    case WorkerRole.workflows:
      return {
        taskQueue: config.TASK_QUEUE,
        options: {
          ...(await workflowCode(config)),
          activities,
          // After this worker dies, its runs' next workflow tasks wait this long for it (Temporal's default
          // is 10 s) before any worker may take them: part of every crash's recovery time.
          stickyQueueScheduleToStartTimeout: config.WORKER_STICKY_TIMEOUT_SECONDS * 1000,
          ...(config.WORKFLOW_CACHE_SIZE !== undefined && { maxCachedWorkflows: config.WORKFLOW_CACHE_SIZE }),
          ...workflowTaskSettings(config),
        },
      };
    case WorkerRole.model:
      return {
        taskQueue: config.MODEL_TASK_QUEUE,
        options: {
          activities: { callModel: activities.callModel, summarizeConversation: activities.summarizeConversation },
          ...(config.MODEL_CONCURRENCY !== undefined && {
            maxConcurrentActivityTaskExecutions: config.MODEL_CONCURRENCY,
          }),
          ...(config.MODEL_CALLS_PER_SECOND !== undefined && {
            maxTaskQueueActivitiesPerSecond: config.MODEL_CALLS_PER_SECOND,
          }),
        },
      };
    case WorkerRole.tools:
      return {
        taskQueue: config.TOOL_TASK_QUEUE,
        options: {
          activities: { runTool: activities.runTool, listMcpTools: activities.listMcpTools },
          ...(config.TOOL_CONCURRENCY !== undefined && {
            maxConcurrentActivityTaskExecutions: config.TOOL_CONCURRENCY,
          }),
        },
      };
  }
}

/**
 * Worker Deployment versioning, when `WORKER_DEPLOYMENT_NAME` and `WORKER_BUILD_ID` are set: runs are
 * pinned to the build they started on (README: Deploying a new build).
 */
function deploymentOptions(config: WorkerConfig) {
  if (config.WORKER_DEPLOYMENT_NAME === undefined || config.WORKER_BUILD_ID === undefined) return {};
  return {
    workerDeploymentOptions: {
      version: { deploymentName: config.WORKER_DEPLOYMENT_NAME, buildId: config.WORKER_BUILD_ID },
      useWorkerVersioning: true as const,
      defaultVersioningBehavior: 'PINNED' as const,
    },
  };
}

/**
 * The context windows the model server says the models this worker knows have (its default model, its
 * agents' models and fallback models): runs started here record them. Only a worker that runs runs asks.
 */
function modelServerWindows(config: WorkerConfig, agents: AgentRegistry): Promise<Record<string, number>> {
  if (config.WORKER_ROLE !== WorkerRole.all && config.WORKER_ROLE !== WorkerRole.workflows) return Promise.resolve({});
  const models = [
    config.AGENT_MODEL,
    ...agents
      .entries()
      .flatMap(({ agent }) => [...(agent.model ? [agent.model] : []), ...(agent.fallbackModels ?? [])]),
  ];
  return serverContextWindows(config.OPENAI_BASE_URL, models, (line) => Runtime.instance().logger.info(line));
}

/** The optional search attributes runs started here keep: only a worker that runs runs asks. */
function optionalAttributesFor(config: WorkerConfig, connection: NativeConnection): Promise<string[]> {
  if (config.WORKER_ROLE !== WorkerRole.all && config.WORKER_ROLE !== WorkerRole.workflows) return Promise.resolve([]);
  const warn = (line: string) => Runtime.instance().logger.warn(line);
  return registeredOptionalAttributes(connection, config.TEMPORAL_NAMESPACE, warn);
}

/** One Temporal worker per task queue the role of `config` polls, with `shared` options. */
async function createRoleWorkers(
  config: WorkerConfig,
  activities: Activities,
  shared: Omit<WorkerOptions, 'taskQueue'>,
): Promise<RoleWorker[]> {
  const roleWorkers: RoleWorker[] = [];
  for (const role of rolesOf(config.WORKER_ROLE)) {
    const { taskQueue, options } = await roleOptions(role, config, activities);
    // Calls routed to the runs' own queue are the workflows worker's, which registers every activity.
    // Runs started when separate queues were the default recorded those: they are still served.
    const forEarlierRuns = role !== WorkerRole.workflows && taskQueue === config.TASK_QUEUE;
    const polled = forEarlierRuns ? separateCallQueues(config.TASK_QUEUE)[role] : taskQueue;
    const worker = await Worker.create({ ...shared, ...options, taskQueue: polled });
    roleWorkers.push({ role, taskQueue: polled, worker, ...(forEarlierRuns && { forEarlierRuns }) });
  }
  return roleWorkers;
}

/** Creates a worker for `config`; the caller runs it and closes `connection` afterwards. */
export async function createAgentWorker(
  config: WorkerConfig,
  registry?: AgentRegistry,
  options: AgentWorkerOptions = {},
): Promise<{ worker: AgentWorker; connection: NativeConnection; registry: AgentRegistry; model: ModelEndpoint }> {
  // Bad PAYLOAD_KEYS stop the worker here, before it connects or takes any task.
  const codecs = payloadCodecs(config.PAYLOAD_KEYS, { onKeyError: options.onPayloadKeyError });
  const agents = registry ?? (await buildRegistry(config));
  checkSubAgentTree(agents);
  // A handoff to an agent this worker lacks stops it here, not a run mid-conversation.
  checkHandoffTargets(agents);
  const requestTimeoutMs = config.MODEL_TIMEOUT_SECONDS * 1000;
  const openai = new OpenAI({
    baseURL: config.OPENAI_BASE_URL,
    // Local OpenAI-compatible servers need no key, but the client insists on one.
    apiKey: config.OPENAI_API_KEY ?? 'no-key-set',
    maxRetries: 0,
    timeout: requestTimeoutMs,
    // Whatever the endpoint sends is read through a byte bound (and, streamed, event by event); error
    // bodies not in OpenAI's shape (vLLM's, FastAPI's) are put in it, so the client reads their words.
    fetch: openAIErrorBodies(boundedFetch()),
  });
  // One connection per MCP server, shared by every run's calls here; closed when the worker stops.
  const mcpConnections = new McpConnections(config.MCP_LIST_TTL_SECONDS * 1000);
  // One line, as a client says it: the Rust core's debug string is read, not shown.
  const connection = await NativeConnection.connect(config.connection).catch((error: Error) => {
    throw new Error(
      `cannot reach Temporal at ${describeAddress(config)}: ${connectionCause(error)} ` +
        `(${connectionHint(config.TEMPORAL_ADDRESS)})`,
    );
  });
  try {
    const activities = createActivities({
      mcpConnections,
      ...specSettingsOf(config, await modelServerWindows(config, agents)),
      registeredSearchAttributes: await optionalAttributesFor(config, connection),
      registry: agents,
      openai,
      streamModelCalls: config.MODEL_STREAMING,
      outputCaps: buildCapParameters(config.MODEL_OUTPUT_CAP_PARAMETERS),
      apiKeySet: config.OPENAI_API_KEY !== undefined,
      pacer: new ModelCallPacer(config.MODEL_TOKENS_PER_MINUTE),
      resultMaxBytes: config.TOOL_RESULT_MAX_BYTES,
      unknownAgentWaitMs: config.UNKNOWN_AGENT_WAIT_SECONDS * 1000,
      transcripts: new TranscriptStore(config.TRANSCRIPT_CACHE_MB * 1024 * 1024, readRunHistory),
    });
    const tracing = await workerTracing(config);
    const shared = {
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      interceptors: {
        // Log entries of a call name its model and step (or tool and call id), its retry policy's
        // attempts and, inside the attempt's span, its trace; the call's own span is inside that.
        activity: [...tracing.attemptSpans, callLogAttributes, ...tracing.callSpans],
        // The bundle holds the workflow interceptors already (prebuilt, or bundled by workflowCode).
        workflowModules: [],
      },
      sinks: tracing.sinks,
      dataConverter: {
        payloadCodecs: codecs,
        // For the activities here, and for the workflows when they are bundled at start (a prebuilt
        // bundle has it already).
        payloadConverterPath: WORKFLOW_BUNDLE_MODULES.payloadConverterPath,
        ...(config.PAYLOAD_KEYS !== undefined && { failureConverterPath: require.resolve('../codec/sealed-failures') }),
      },
      // On SIGTERM/SIGINT the worker stops polling; the calls in flight get this long to finish.
      shutdownGraceTime: config.SHUTDOWN_GRACE_SECONDS * 1000,
      // Heartbeats reach the server at least this often, with or without a heartbeat timeout (the SDK's
      // defaults are 30 s without one and 80% of it, up to 60 s, with one): a cancellation, which the
      // server hands out in answer to a heartbeat, reaches a running call within this much.
      maxHeartbeatThrottleInterval: config.HEARTBEAT_THROTTLE_MS,
      defaultHeartbeatThrottleInterval: config.HEARTBEAT_THROTTLE_MS,
      ...deploymentOptions(config),
    };
    const roleWorkers = await createRoleWorkers(config, activities, shared);
    const model = {
      model: config.AGENT_MODEL,
      endpoint: displayEndpoint(openai.baseURL),
      apiKeySet: config.OPENAI_API_KEY !== undefined,
    };
    return {
      worker: new AgentWorker(roleWorkers, () => mcpConnections.close()),
      connection,
      registry: agents,
      model,
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

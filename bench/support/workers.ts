/**
 * The worker processes the bench measures: the project's own worker (`worker.ts`, configured from env
 * as in production) serving the bench agent, and the floor worker (bench/floor/worker.ts).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { cpuProfileArgs, REPO, spawnNodeProcess, type NodeProcess } from './node-process';

/** Both workers print this line once they poll (runtime/serve-worker.ts, bench/floor/worker.ts). */
const READY = /^worker: polling task queue/m;

/** A worker process polling its own task queue. */
export interface WorkerProcess extends NodeProcess {
  taskQueue: string;
}

export interface AgentWorkerOptions {
  address: string;
  /** A prebuilt bundle of workflows/index.ts. */
  bundlePath: string;
  modelBaseUrl: string;
  /** `LOCAL_ACTIVITIES=model,tools`: model and tool calls as local activities. */
  local?: boolean;
  /** Model and tool calls on queues of their own (`<TASK_QUEUE>-model`, `-tools`), as a fleet by role routes them. */
  separateQueues?: boolean;
  /** Further worker env (the bench's `--worker-env KEY=VALUE`). */
  extraEnv?: Record<string, string>;
  /** The task queue to poll (default: a fresh one): a restarted worker takes its predecessor's. */
  taskQueue?: string;
  /** Write the worker's CPU profiles into this folder when it exits (the bench's `--cpu-prof DIR`). */
  cpuProfileDir?: string;
}

/** The fast path's worker env value: model and tool calls as local activities. */
export const LOCAL_MODEL_AND_TOOLS = 'model,tools';

/** The absolute path of the bench's plug-in agent module, for `AGENT_MODULES`. */
export const BENCH_AGENT_MODULE = join(REPO, 'bench', 'agent.ts');

/** Starts `worker.ts` on a fresh task queue (or `options.taskQueue`) serving the bench agent; resolves once it polls. */
export async function startAgentWorker(options: AgentWorkerOptions): Promise<WorkerProcess> {
  const taskQueue = options.taskQueue ?? `bench-agent-${randomUUID().slice(0, 8)}`;
  const worker = spawnNodeProcess(
    'worker.ts',
    {
      TEMPORAL_ADDRESS: options.address,
      TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE: options.bundlePath,
      AGENT_MODULES: BENCH_AGENT_MODULE,
      OPENAI_BASE_URL: options.modelBaseUrl,
      AGENT_MODEL: 'bench',
      ...(options.local && { LOCAL_ACTIVITIES: LOCAL_MODEL_AND_TOOLS }),
      ...(options.separateQueues && { MODEL_TASK_QUEUE: `${taskQueue}-model`, TOOL_TASK_QUEUE: `${taskQueue}-tools` }),
      ...options.extraEnv,
    },
    { nodeArgs: cpuProfileArgs(options.cpuProfileDir) },
  );
  return ready(worker, taskQueue);
}

/** Starts bench/floor/worker.ts on a fresh task queue; resolves once it polls. */
export async function startFloorWorker(options: {
  address: string;
  bundlePath: string;
  extraEnv?: Record<string, string>;
  cpuProfileDir?: string;
}): Promise<WorkerProcess> {
  const taskQueue = `bench-floor-${randomUUID().slice(0, 8)}`;
  const worker = spawnNodeProcess(
    'bench/floor/worker.ts',
    {
      TEMPORAL_ADDRESS: options.address,
      TASK_QUEUE: taskQueue,
      WORKFLOW_BUNDLE: options.bundlePath,
      ...options.extraEnv,
    },
    { nodeArgs: cpuProfileArgs(options.cpuProfileDir) },
  );
  return ready(worker, taskQueue);
}

async function ready(worker: NodeProcess, taskQueue: string): Promise<WorkerProcess> {
  try {
    await worker.ready(READY);
  } catch (error) {
    await worker.stop(2_000);
    throw error;
  }
  return Object.assign(worker, { taskQueue });
}

/** `KEY=VALUE` strings (the `--worker-env` flag) as an env object; throws on one without `=`. */
export function parseEnvPairs(pairs: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--worker-env takes KEY=VALUE, got ${JSON.stringify(pair)}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

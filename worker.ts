/**
 * The worker side's entry: build workers from env configuration (`createAgentWorker`), and, run as a
 * program (`npm run worker`), one worker that polls the task queue and runs `agentRun` workflows and
 * the model and tool activities. Workers hold no state, so any number of them can serve one queue;
 * configure them with env (README "Configuration"); `--offline` (or `AGENT_MODEL=offline`) serves the
 * offline demo model from the worker itself. The modules are in `runtime/`.
 */
import { Runtime } from '@temporalio/worker';
import { loadWorkerConfig, type WorkerConfig } from './src/config';
import type { PayloadKeyError } from './src/errors';
import { createAgentWorker, type ModelEndpoint } from './runtime/create-worker';
import { createWorkerLogger, workerLogLevel } from './runtime/logging';
import { OFFLINE_AGENT_MODEL, offlineModelEnv, startOfflineModel } from './testing/offline-model';

export { buildRegistry, createAgentWorker, type AgentWorkerOptions, type ModelEndpoint } from './runtime/create-worker';
export { loadAgentModule, parseModuleList } from './runtime/agent-modules';
export { createWorkerLogger } from './runtime/logging';
export { loadWorkerConfig, type WorkerConfig } from './src/config';

/** How long a worker that cannot decrypt gets to hand its tasks back before it exits anyway. */
const KEY_ERROR_SHUTDOWN_MS = 5_000;

/** The worker's first line: the model it calls by default, where, and whether a key is set (never the key). */
function describeModel({ model, endpoint, apiKeySet }: ModelEndpoint, offline: boolean): string {
  if (offline) return `worker: model OFFLINE DEMO MODEL (scripted, no key needed) at ${endpoint}`;
  return `worker: model ${model} at ${endpoint} (${apiKeySet ? 'OPENAI_API_KEY set' : 'no OPENAI_API_KEY'})`;
}

/** `--offline` (the program's one argument) or `AGENT_MODEL=offline`: serve the offline demo model. */
function wantsOffline(args: string[], agentModel: string): boolean {
  const unknown = args.filter((arg) => arg !== '--offline');
  if (unknown.length) throw new Error(`unknown argument ${unknown[0]} (the worker takes only --offline; see README)`);
  return args.includes('--offline') || agentModel === OFFLINE_AGENT_MODEL;
}

async function main(): Promise<void> {
  let config = loadWorkerConfig();
  // The scripted demo model, served from this process on a free loopback port: the whole CLI tour
  // works with no key and no network. It stops with the worker.
  const offline = wantsOffline(process.argv.slice(2), config.AGENT_MODEL) ? await startOfflineModel() : undefined;
  try {
    if (offline)
      config = loadWorkerConfig({ ...process.env, ...offlineModelEnv(offline.baseUrl, config.MODEL_PRICES) });
    await serve(config, offline !== undefined);
  } finally {
    await offline?.close();
  }
}

/** Runs one worker for `config` until it is stopped, after printing its first lines. */
async function serve(config: WorkerConfig, offline: boolean): Promise<void> {
  // Installed before the first connection, which would install the SDK's default logger instead: one
  // line per failed attempt, no task tokens (runtime/logging.ts). WORKER_LOG_LEVEL=DEBUG adds the
  // model client's own errors, with their stacks and causes.
  Runtime.install({ logger: createWorkerLogger(workerLogLevel()) });
  // A task this worker cannot decrypt would fail here on every retry: say so once and leave it to
  // workers that hold the key, instead of failing it again and again.
  let reportKeyError!: (error: PayloadKeyError) => void;
  const keyError = new Promise<PayloadKeyError>((resolve) => (reportKeyError = resolve));
  const { worker, connection, registry, model } = await createAgentWorker(config, undefined, {
    onPayloadKeyError: reportKeyError,
  });
  void keyError.then((error) => {
    console.error(`worker: cannot decrypt payloads: ${error.message}`);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), KEY_ERROR_SHUTDOWN_MS).unref();
    // Already stopping (a signal came first) is as good: it is on its way out.
    if (worker.getState() === 'RUNNING') worker.shutdown();
  });
  console.log(describeModel(model, offline));
  console.log(
    `worker: polling task queue "${config.TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS} ` +
      `(namespace ${config.TEMPORAL_NAMESPACE}); agents: ${registry.names().join(', ')}`,
  );
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((error: Error) => {
    console.error(`worker: ${error.message}`);
    process.exit(1);
  });
}

/**
 * Runs one worker until it is stopped, as `npm run worker` does (worker.ts) and the CLI's `worker` and
 * `dev` commands do: its first lines say which model it calls and which task queue it polls, a signal
 * (or the caller) stops it, and a payload it cannot decrypt stops it with exit code 1.
 */
import { Runtime } from '@temporalio/worker';
import type { WorkerConfig } from '../src/config';
import type { PayloadKeyError } from '../src/errors';
import { createAgentWorker, type ModelEndpoint } from './create-worker';
import { createWorkerLogger, workerLogLevel } from './logging';

/** How long a worker that cannot decrypt gets to hand its tasks back before it exits anyway. */
const KEY_ERROR_SHUTDOWN_MS = 5_000;

export interface ServeOptions {
  /** The default model is the offline demo model this process serves: the first line says so. */
  offline: boolean;
  /** Stops the worker when it resolves (SIGINT and SIGTERM stop it anyway, through the SDK's runtime). */
  stop?: Promise<void>;
  /** Called once the worker is about to poll, after its first lines. */
  onReady?: () => void;
}

/** The worker's first line: the model it calls by default, where, and whether a key is set (never the key). */
export function describeModel({ model, endpoint, apiKeySet }: ModelEndpoint, offline: boolean): string {
  if (offline) return `worker: model OFFLINE DEMO MODEL (scripted, no key needed) at ${endpoint}`;
  return `worker: model ${model} at ${endpoint} (${apiKeySet ? 'OPENAI_API_KEY set' : 'no OPENAI_API_KEY'})`;
}

/**
 * Runs one worker for `config` until it is stopped, after printing its first lines. Resolves to the
 * exit code: 0, or 1 when it stopped because it met a payload it cannot decrypt (said on stderr).
 */
export async function serveWorker(config: WorkerConfig, options: ServeOptions): Promise<number> {
  // Installed before the first connection, which would install the SDK's default logger instead: one
  // line per failed attempt, no task tokens (runtime/logging.ts). WORKER_LOG_LEVEL=DEBUG adds the
  // model client's own errors, with their stacks and causes.
  Runtime.install({ logger: createWorkerLogger(workerLogLevel()) });
  // A task this worker cannot decrypt would fail here on every retry: say so once and leave it to
  // workers that hold the key, instead of failing it again and again.
  let reportKeyError!: (error: PayloadKeyError) => void;
  const keyError = new Promise<PayloadKeyError>((resolve) => (reportKeyError = resolve));
  let exitCode = 0;
  const { worker, connection, registry, model } = await createAgentWorker(config, undefined, {
    onPayloadKeyError: reportKeyError,
  });
  // Already stopping (a signal came first) is as good: it is on its way out.
  const shutdown = () => worker.getState() === 'RUNNING' && worker.shutdown();
  void keyError.then((error) => {
    console.error(`worker: cannot decrypt payloads: ${error.message}`);
    exitCode = 1;
    setTimeout(() => process.exit(1), KEY_ERROR_SHUTDOWN_MS).unref();
    shutdown();
  });
  console.log(describeModel(model, options.offline));
  console.log(
    `worker: polling task queue "${config.TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS} ` +
      `(namespace ${config.TEMPORAL_NAMESPACE}); agents: ${registry.names().join(', ')}`,
  );
  if (config.LOCAL_ACTIVITIES.length) {
    console.log(`worker: ${config.LOCAL_ACTIVITIES.join(' and ')} calls run as local activities (LOCAL_ACTIVITIES)`);
  }
  options.onReady?.();
  try {
    // run() is RUNNING once called, so a stop that came already shuts it down at once.
    const running = worker.run();
    void options.stop?.then(shutdown);
    await running;
  } finally {
    await connection.close();
  }
  return exitCode;
}

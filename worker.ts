/**
 * The worker side's entry: build workers from env configuration (`createAgentWorker`), and, run as a
 * program (`npm run worker`), one worker that polls the task queue and runs `agentRun` workflows and
 * the model and tool activities. Workers hold no state, so any number of them can serve one queue;
 * configure them with env (README "Configuration"); `--offline` (or `AGENT_MODEL=offline`) serves the
 * offline demo model from the worker itself. `runWorker` is that program, shared with the CLI's
 * `worker` and `dev` commands (cli/workers/), which load this entry when they run. The modules are
 * in `runtime/`.
 */
import { parseArgs } from 'node:util';
import { loadWorkerConfig, WORKER_ROLES, type TemporalOverrides, type WorkerRole } from './src/config';
import { serveWorker } from './runtime/serve-worker';
import { OFFLINE_AGENT_MODEL, offlineModelEnv, startOfflineModel } from './runtime/offline-model';

export { buildRegistry, createAgentWorker, type AgentWorkerOptions, type ModelEndpoint } from './runtime/create-worker';
export { loadAgentModule, parseModuleList } from './runtime/agent-modules';
export { createWorkerLogger } from './runtime/logging';
export { loadWorkerConfig, type WorkerConfig } from './src/config';

export interface RunWorkerOptions {
  /** Serve the offline demo model (`--offline`); `AGENT_MODEL=offline` does too. */
  offline: boolean;
  /** The worker's environment (default: this process's). */
  env?: Record<string, string | undefined>;
  /** Where Temporal is, as flags say it (the CLI's `--address`, `--namespace`, `--profile`): over their env twins. */
  overrides?: TemporalOverrides;
  /** Stops the worker when it resolves (SIGINT and SIGTERM stop it anyway). */
  stop?: Promise<void>;
  /** Called once the worker is about to poll, after its first lines. */
  onReady?: () => void;
}

/**
 * Runs one worker configured from `env` until it is stopped: `npm run worker`, and the CLI's `worker`
 * and `dev` commands.
 */
export async function runWorker({
  offline,
  env = process.env,
  overrides,
  stop,
  onReady,
}: RunWorkerOptions): Promise<void> {
  let config = loadWorkerConfig(env, overrides);
  // The scripted demo model, served from this process on a free loopback port: the whole CLI tour
  // works with no key and no network. It stops with the worker.
  const model = offline || config.AGENT_MODEL === OFFLINE_AGENT_MODEL ? await startOfflineModel() : undefined;
  try {
    if (model) config = loadWorkerConfig({ ...env, ...offlineModelEnv(model.baseUrl, config.MODEL_PRICES) }, overrides);
    await serveWorker(config, { offline: model !== undefined, stop, onReady });
  } finally {
    await model?.close();
  }
}

/** The program's arguments: `--offline` (serve the offline demo model) and `--role <role>` (as WORKER_ROLE). */
function parseArguments(args: string[]): { offline: boolean; env: Record<string, string | undefined> } {
  let values: { offline: boolean; role?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { offline: { type: 'boolean', default: false }, role: { type: 'string' } },
      strict: true,
    }));
  } catch (error) {
    const argument = /'([^']+)'/.exec((error as Error).message)?.[1] ?? args.join(' ');
    throw new Error(`unknown argument ${argument} (the worker takes --offline and --role <role>; see README)`, {
      cause: error,
    });
  }
  if (values.role !== undefined && !WORKER_ROLES.includes(values.role as WorkerRole)) {
    throw new Error(`--role must be one of ${WORKER_ROLES.join(', ')}, not ${JSON.stringify(values.role)}`);
  }
  return { offline: values.offline, env: { ...process.env, ...(values.role && { WORKER_ROLE: values.role }) } };
}

if (require.main === module) {
  (async () => runWorker(parseArguments(process.argv.slice(2))))().catch((error: Error) => {
    console.error(`worker: ${error.message}`);
    process.exit(1);
  });
}

/**
 * Runs one worker until it is stopped, as `npm run worker` does (worker.ts) and the CLI's `worker` and
 * `dev` commands do: its first lines say which model it calls (unless it runs tools only), which task
 * queues it polls and on which Temporal (and why that one), and a signal (or the caller) stops it.
 */
import type { SerializationContext } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { describeAddress, WorkerRole, type WorkerConfig } from '../src/config';
import type { PayloadKeyError } from '../src/errors';
import { shutdownTracing } from '../src/tracing';
import type { AgentWorker } from './agent-worker';
import { reportApprovalsWaiting } from './approvals-gauge';
import { createAgentWorker, type ModelEndpoint } from './create-worker';
import { serveHealth } from './health';
import { createWorkerLogger, workerLogLevel } from './logging';

/** Runs whose undecryptable payloads a worker remembers having told, so a retried task is told once. */
const KEY_ERRORS_TOLD = 1_000;

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

const POLLED_FOR = { workflows: 'runs', model: 'model calls', tools: 'tool calls' } as const;

/**
 * The task queues a worker polls, each with what for: `task queue "agents" (runs), "agents-model"
 * (model calls)`, or for one worker that keeps calls on the runs' queue, `"agents" (runs, model calls,
 * tool calls), "agents-model" (model calls of earlier runs), ...`.
 */
function describeQueues(worker: AgentWorker): string {
  const onRunsQueue = worker.workers.filter((role) => role.forEarlierRuns).map(({ role }) => POLLED_FOR[role]);
  const described = worker.workers.map(({ role, taskQueue, forEarlierRuns }) => {
    if (forEarlierRuns) return `"${taskQueue}" (${POLLED_FOR[role]} of earlier runs)`;
    return `"${taskQueue}" (${[POLLED_FOR[role], ...(role === WorkerRole.workflows ? onRunsQueue : [])].join(', ')})`;
  });
  return `task queue ${described.join(', ')}`;
}

/**
 * On the first SIGTERM or SIGINT (which the SDK's runtime answers by stopping every worker) says how
 * long the calls in flight have; a second one exits at once.
 */
function onStopSignals(graceSeconds: number): () => void {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const exitAtOnce = (signal: NodeJS.Signals) => {
    console.error(`worker: ${signal} again: exiting at once`);
    process.exit(1);
  };
  const draining = (signal: NodeJS.Signals) => {
    console.error(
      `worker: ${signal}: draining, calls in flight have ${graceSeconds} s to finish (SHUTDOWN_GRACE_SECONDS); ` +
        'a second signal exits at once',
    );
    for (const other of signals) {
      process.off(other, draining);
      process.once(other, exitAtOnce);
    }
  };
  for (const signal of signals) process.on(signal, draining);
  return () => {
    for (const signal of signals) {
      process.off(signal, draining);
      process.off(signal, exitAtOnce);
    }
  };
}

/**
 * What a worker does with a payload it cannot decrypt (a key id its PAYLOAD_KEYS lacks, or one that
 * fails authentication): the task that carried it fails, typed, and Temporal hands it out again, to
 * a worker holding the key if there is one. The worker itself goes on with every other run: one
 * hostile message must not stop a fleet. Told once per run on stderr, counted in
 * `agent_payload_key_errors`.
 */
function keyErrorReporter(): (error: PayloadKeyError, context?: SerializationContext) => void {
  const told = new Set<string>();
  return (error, context) => {
    const owner = context?.workflowId ?? '(unknown run)';
    Runtime.instance()
      .metricMeter.createCounter('agent_payload_key_errors', 'payloads', 'Payloads this worker could not decrypt')
      .add(1);
    if (told.has(owner)) return;
    if (told.size >= KEY_ERRORS_TOLD) told.clear();
    told.add(owner);
    console.error(
      `worker: cannot decrypt a payload of ${owner}: ${error.message}; its task fails and is retried ` +
        '(a worker holding the key will run it), this worker goes on',
    );
  };
}

/** `host:port` as a socket address is written: an IPv6 host in brackets (`[::1]:9464`). */
function socketAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Runs one worker for `config` until it is stopped, after printing its first lines. */
export async function serveWorker(config: WorkerConfig, options: ServeOptions): Promise<void> {
  // Installed before the first connection, which would install the SDK's default logger instead: one
  // line per failed attempt, no task tokens (runtime/logging.ts). WORKER_LOG_LEVEL=DEBUG adds the
  // model client's own errors, with their stacks and causes. LOG_FORMAT=json: one JSON object a line.
  Runtime.install({
    logger: createWorkerLogger(workerLogLevel(), config.LOG_FORMAT, { sealed: config.PAYLOAD_KEYS !== undefined }),
    // The SDK's metrics and the agent's own (activities/metrics.ts, workflows/status-report.ts) in
    // Prometheus' text format at /metrics.
    ...(config.METRICS_PORT !== undefined && {
      telemetryOptions: {
        metrics: {
          prometheus: {
            bindAddress: socketAddress(config.METRICS_HOST, config.METRICS_PORT),
            // Dollars a call, not the milliseconds the default buckets are made for.
            histogramBucketOverrides: { agent_cost_usd: [0.0001, 0.001, 0.01, 0.1, 1, 10] },
          },
        },
      },
    }),
  });
  const { worker, connection, registry, model } = await createAgentWorker(config, undefined, {
    onPayloadKeyError: keyErrorReporter(),
  });
  // Already stopping (a signal came first) is as good: it is on its way out.
  const shutdown = () => worker.getState() === 'RUNNING' && worker.shutdown();
  // A tools worker calls no model: naming one would only mislead.
  if (config.WORKER_ROLE !== WorkerRole.tools) console.log(describeModel(model, options.offline));
  console.log(
    `worker: polling ${describeQueues(worker)} on ${describeAddress(config)}, ` +
      `namespace ${config.TEMPORAL_NAMESPACE}, role ${config.WORKER_ROLE}; agents: ${registry.names().join(', ')}`,
  );
  if (config.LOCAL_ACTIVITIES.length) {
    console.log(`worker: ${config.LOCAL_ACTIVITIES.join(' and ')} calls run as local activities (LOCAL_ACTIVITIES)`);
  }
  const health =
    config.HEALTH_PORT === undefined
      ? undefined
      : await serveHealth({ host: config.HEALTH_HOST, port: config.HEALTH_PORT }, worker);
  const runsWorkflows = worker.workers.some(({ role }) => role === WorkerRole.workflows);
  const stopGauge =
    config.METRICS_PORT !== undefined && runsWorkflows
      ? reportApprovalsWaiting(connection, config.TEMPORAL_NAMESPACE, Runtime.instance().metricMeter, registry.names())
      : undefined;
  const stopListening = onStopSignals(config.SHUTDOWN_GRACE_SECONDS);
  options.onReady?.();
  try {
    // run() is RUNNING once called, so a stop that came already shuts it down at once.
    const running = worker.run();
    void options.stop?.then(shutdown);
    await running;
  } finally {
    stopListening();
    stopGauge?.();
    await health?.close();
    await connection.close();
    // The spans of the last calls are still in the batch (tracing is installed by createAgentWorker).
    await shutdownTracing();
  }
}

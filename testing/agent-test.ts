/**
 * `startAgentTest`: everything a test of an agent needs, in one call. A Temporal server (Temporal's
 * local test environment, or one already running), a scripted model, a worker running the agents in
 * this process, and the client that talks to their runs, all stopped by `close()`.
 */
import { randomUUID } from 'node:crypto';
import { IllegalStateError } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { AgentClient } from '../client/agent-client';
import { createAgentWorker } from '../runtime/create-worker';
import type { AgentWorker } from '../runtime/agent-worker';
import { createWorkerLogger } from '../runtime/logging';
import { startScriptedModel, type Script, type ScriptedModel, type ServerProfile } from './scripted-model';
import type { AgentDefinition } from '../src/agent';
import type { McpServerDefinition } from '../src/mcp-server';
import { loadWorkerConfig, type WorkerConfig } from '../src/config';
import { searchAttributes } from '../src/contract';
import { AgentRegistry } from '../src/registry';
import { findTemporalBinary } from './dev-server';

export interface AgentTestOptions {
  /**
   * The agents the worker runs (`defineAgent` results), and MCP servers they name (`defineMcpServer`
   * results); default: those `env`'s `AGENT_MODULES` names (as `npm run worker`).
   */
  agents?: readonly (AgentDefinition | McpServerDefinition)[];
  /** How the model answers each request (`reply.text`, `reply.tools`, `byTurn`, ...). */
  script: Script;
  /** The model server to copy (`serverProfiles.llamaServer()`, `.llamaCppPython()`, `.vllm()`, ...); OpenAI's ways without one. */
  modelProfile?: ServerProfile;
  /**
   * A running Temporal server (host:port) to use instead of starting one, e.g. one a jest globalSetup
   * started for every test file (`startDevServer`); its Agent* search attributes are registered if
   * missing. Without it, a dev server is started for this test and stopped by `close()`.
   */
  address?: string;
  /** The namespace on `address` (default `default`). */
  namespace?: string;
  /**
   * The Temporal CLI that runs the started server. Default: in a checkout of this repository the one
   * `temporal-dev.sh install` provides, else `temporal` on PATH, else Temporal's test environment
   * downloads one (and caches it).
   */
  temporalCli?: string;
  /**
   * A prebuilt workflow bundle (`bundleWorkflowCode`'s code, written to a file). Default: the package's
   * own (dist/workflow-bundle.js); run from the sources, the worker bundles them at start (seconds).
   */
  workflowBundle?: string;
  /**
   * The worker's settings, as the env variables `npm run worker` reads (e.g. `{ MODEL_MAX_ATTEMPTS: '2' }`).
   * Nothing is read from `process.env`. `TASK_QUEUE` defaults to a fresh one, so tests on one server
   * never take each other's runs; `SHUTDOWN_GRACE_SECONDS` to 2. The server's address and the model's
   * URL are the test's own, whatever this says.
   */
  env?: Record<string, string | undefined>;
}

export interface AgentTest {
  /** The client, on the test's server and task queue: `start`, `decide`, `result`, `state`, `stream`, ... */
  client: AgentClient;
  /** The scripted model: `requests` holds every request the agents sent, in order. */
  model: ScriptedModel;
  /** The task queue the worker polls (runs started by `client` go there). */
  taskQueue: string;
  /** Where the server is (host:port). */
  address: string;
  /** The worker's configuration (its task queues, limits, ...). */
  config: WorkerConfig;
  /** The running worker. */
  worker: AgentWorker;
  /** Stops the worker, the client, the model and the server it started (never one given as `address`). */
  close(): Promise<void>;
}

type Closer = () => Promise<unknown>;

/** Runs `closers` last first; throws the first error after trying them all. */
async function closeAll(closers: Closer[]): Promise<void> {
  const errors: unknown[] = [];
  for (const close of [...closers].reverse()) await close().catch((error: unknown) => errors.push(error));
  if (errors.length) throw errors[0];
}

/**
 * Temporal's own logger tells every worker state change: a test's output gets warnings and errors
 * only, unless the process installed a Runtime of its own (before its first worker or connection).
 */
function quietRuntime(): void {
  const logger = createWorkerLogger('WARN');
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN', (entry) => {
        // The model and tool workers run activities only: polling no workflow tasks is their job.
        if (!entry.message.startsWith('No workflows registered')) logger.log(entry.level, entry.message, entry.meta);
      }),
    });
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
  }
}

/** The test's server: the one at `address`, or a dev server started from the Temporal CLI. */
async function startServer(options: AgentTestOptions): Promise<{ address: string; namespace: string; stop?: Closer }> {
  if (options.address) return { address: options.address, namespace: options.namespace ?? 'default' };
  const path = options.temporalCli ?? findTemporalBinary();
  const environment = await TestWorkflowEnvironment.createLocal({
    server: {
      ...(path && { executable: { type: 'existing-path', path } }),
      ...(options.namespace && { namespace: options.namespace }),
      searchAttributes: Object.values(searchAttributes),
      log: { format: 'pretty', level: 'error' },
    },
  });
  return {
    address: environment.address,
    namespace: options.namespace ?? 'default',
    stop: () => environment.teardown(),
  };
}

/** Registers the Agent* search attributes the server at the client's address does not have yet. */
async function ensureSearchAttributes(client: AgentClient): Promise<void> {
  const { operatorService } = client.client.connection;
  const namespace = client.config.TEMPORAL_NAMESPACE;
  const known = (await operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  const { IndexedValueType } = temporal.api.enums.v1;
  const missing = Object.values(searchAttributes).filter((key) => !(key.name in known));
  if (!missing.length) return;
  await operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(
      missing.map((key) => [key.name, IndexedValueType[`INDEXED_VALUE_TYPE_${key.type}`]]),
    ),
  });
}

/**
 * Starts what a test of agents needs: a Temporal server (or `address`'s), the scripted model running
 * `script`, a worker running `agents` in this process, and a client for their runs: 1–2 s with the
 * package's prebuilt workflow bundle, on a server started here (docs/testing.md: what it costs).
 *
 * ```ts
 * const test = await startAgentTest({ agents: [myAgent], script: byTurn([reply.text('Hi!')]) });
 * const id = await test.client.start({ agent: 'my-agent', message: 'Hello' });
 * expect((await test.client.result(id)).output).toBe('Hi!');
 * await test.close();
 * ```
 */
export async function startAgentTest(options: AgentTestOptions): Promise<AgentTest> {
  quietRuntime();
  const closers: Closer[] = [];
  try {
    const server = await startServer(options);
    if (server.stop) closers.push(server.stop);
    const model = await startScriptedModel(options.script, { profile: options.modelProfile });
    closers.push(() => model.close());
    const config = loadWorkerConfig({
      TASK_QUEUE: `agent-test-${randomUUID()}`,
      SHUTDOWN_GRACE_SECONDS: '2',
      ...options.env,
      ...(options.workflowBundle && { WORKFLOW_BUNDLE: options.workflowBundle }),
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      OPENAI_BASE_URL: model.baseUrl,
    });
    const registry = options.agents && new AgentRegistry().add(options.agents, 'startAgentTest').checkMcpServers();
    const { worker, connection } = await createAgentWorker(config, registry);
    closers.push(() => connection.close());
    const running = worker.run();
    // A worker that fails says so at close(); its runs meanwhile wait, as they would in production.
    running.catch(() => undefined);
    closers.push(async () => {
      worker.shutdown();
      await running;
    });
    const client = await AgentClient.connect(config);
    closers.push(() => client.close());
    if (options.address) await ensureSearchAttributes(client);
    let closing: Promise<void> | undefined;
    return {
      client,
      model,
      taskQueue: config.TASK_QUEUE,
      address: server.address,
      config,
      worker,
      close: () => (closing ??= closeAll(closers)),
    };
  } catch (error) {
    await closeAll(closers).catch(() => undefined);
    throw error;
  }
}

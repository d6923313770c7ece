/**
 * Test workers and clients on the run's shared dev server. Each test worker gets its own task queue,
 * so tests in parallel never pick up each other's runs.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { WorkflowType } from '../../src/contract';
import { loadWorkerConfig, type WorkerConfig } from '../../src/config';
import type { AgentRunInput } from '../../src/input';
import type { AgentRegistry } from '../../src/registry';
import type { agentRun } from '../../workflows';
import type { AgentWorker } from '../../runtime/agent-worker';
import { createAgentWorker } from '../../worker';
import { startAgentTest, type AgentTest, type Script, type ScriptedModel } from '../../testing';

export function testAddress(): string {
  const address = process.env.TEST_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error('TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (globalSetup starts the server)');
  return address;
}

/** A fresh path in the run's temporary folder. */
export function tempPath(name: string): string {
  return join(process.env.TEST_TMP_DIR!, `${randomUUID().slice(0, 8)}-${name}`);
}

/** Env for a worker (in this process or spawned) on the test server. */
export function workerEnv(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: testAddress(),
    TASK_QUEUE: `test-${randomUUID()}`,
    WORKFLOW_BUNDLE: process.env.TEST_WORKFLOW_BUNDLE,
    AGENT_MODEL: 'gpt-4o-mini',
    MODEL_HEARTBEAT_SECONDS: '5',
    MODEL_TIMEOUT_SECONDS: '20',
    // The example agent most tests run; production workers register it only when asked to.
    AGENT_MODULES: 'helpdesk',
    HELPDESK_LEDGER: tempPath('ledger.jsonl'),
    // Tests stop workers with calls still in flight (hung models): no need to wait 30 s for them.
    SHUTDOWN_GRACE_SECONDS: '10',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

// Runs that fail on purpose would otherwise print a warning with a stack trace each.
if (!process.env.TEST_VERBOSE) Runtime.install({ logger: new DefaultLogger('ERROR') });

export interface TestWorker {
  config: WorkerConfig;
  client: Client;
  worker: AgentWorker;
  /**
   * Starts an `agentRun` on this worker's task queue; with `startDelay`, its first workflow task comes
   * only after that delay (what arrives before, a cancel, comes with it).
   */
  start(
    input: AgentRunInput,
    workflowId?: string,
    options?: { startDelay?: Duration },
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof agentRun>>;
  stop(): Promise<void>;
}

/** Starts a run of the agent `agentRun` on `taskQueue`, as a test worker's `start` does. */
function starter(client: Client, taskQueue: string): TestWorker['start'] {
  return (input, workflowId = `test-${randomUUID()}`, options = {}) =>
    client.workflow.start<typeof agentRun>(WorkflowType.agentRun, { taskQueue, workflowId, args: [input], ...options });
}

/** Starts a worker in this process, configured like `npm run worker` is from env. */
export async function startTestWorker(
  overrides: Record<string, string | undefined>,
  registry?: AgentRegistry,
): Promise<TestWorker> {
  const config = loadWorkerConfig(workerEnv(overrides));
  const { worker, connection } = await createAgentWorker(config, registry);
  const running = worker.run();
  const clientConnection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection: clientConnection });
  return {
    config,
    client,
    worker,
    start: starter(client, config.TASK_QUEUE),
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await clientConnection.close();
    },
  };
}

/** A file's test worker on a scripted model of its own; each test sets `script`. */
export interface ScriptedWorker {
  script: Script;
  model: ScriptedModel;
  worker: TestWorker;
}

/**
 * Starts a worker (with `overrides` and `registry`) on its own scripted model before the file's
 * tests and stops both after them (`startAgentTest`, on the run's server and workflow bundle); the
 * model's requests are cleared before each test.
 */
export function useScriptedWorker(
  overrides: Record<string, string | undefined> = {},
  registry?: AgentRegistry,
): ScriptedWorker {
  const setup = {
    script: () => {
      throw new Error('the test set no script');
    },
  } as unknown as ScriptedWorker;
  let test: AgentTest | undefined;
  beforeAll(async () => {
    test = await startAgentTest({
      ...(registry && {
        agents: [...registry.entries().map(({ agent }) => agent), ...registry.mcpServerDefinitions()],
      }),
      script: (request, index) => setup.script(request, index),
      address: testAddress(),
      env: workerEnv(overrides),
    });
    const { config, client, worker } = test;
    setup.model = test.model;
    setup.worker = {
      config,
      client: client.client,
      worker,
      start: starter(client.client, test.taskQueue),
      stop: test.close,
    };
  });
  afterAll(async () => {
    await test?.close();
  });
  beforeEach(() => {
    setup.model.requests.length = 0;
  });
  return setup;
}

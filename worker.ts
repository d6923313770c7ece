/**
 * The worker: polls the task queue, runs `agentRun` workflows and the model and tool activities.
 * Workers hold no state, so any number of them can serve one queue; configure it with env
 * (README "Configuration"). Run with `npm run worker`.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import OpenAI from 'openai';
import { createActivities } from './activities';
import { createFileHelpdeskBackend } from './activities/helpdesk-backend';
import { loadAgentModule, parseModuleList } from './src/agent-modules';
import { createHelpdeskAgent } from './src/agents/helpdesk';
import { loadWorkerConfig, type WorkerConfig } from './src/config';
import { buildPriceTable } from './src/pricing';
import { AgentRegistry } from './src/registry';
import { connectionOptions } from './src/temporal-connection';

/** The built-in agents plus those of every module in `AGENT_MODULES`; throws on any bad definition. */
export async function buildRegistry(config: WorkerConfig): Promise<AgentRegistry> {
  const registry = new AgentRegistry().add(
    [createHelpdeskAgent(createFileHelpdeskBackend({ ledgerPath: config.HELPDESK_LEDGER }))],
    'built-in',
  );
  for (const path of parseModuleList(config.AGENT_MODULES)) {
    registry.add(await loadAgentModule(path), path);
  }
  return registry;
}

/** Creates a worker for `config`; the caller runs it and closes `connection` afterwards. */
export async function createAgentWorker(
  config: WorkerConfig,
  registry?: AgentRegistry,
): Promise<{ worker: Worker; connection: NativeConnection; registry: AgentRegistry }> {
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
    },
    resultMaxChars: config.TOOL_RESULT_MAX_CHARS,
    transcriptMaxChars: config.TRANSCRIPT_MAX_CHARS,
  });
  const connection = await NativeConnection.connect(connectionOptions(config)).catch((error: Error) => {
    throw new Error(`cannot reach Temporal at ${config.TEMPORAL_ADDRESS} (${error.message})`);
  });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      ...(config.WORKFLOW_BUNDLE
        ? { workflowBundle: { codePath: config.WORKFLOW_BUNDLE } }
        : { workflowsPath: require.resolve('./workflows') }),
      activities,
      shutdownGraceTime: '10s',
    });
    return { worker, connection, registry: agents };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const { worker, connection, registry } = await createAgentWorker(config);
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

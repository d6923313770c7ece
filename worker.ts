/**
 * The worker side's entry: build workers from env configuration (`createAgentWorker`), and, run as a
 * program (`npm run worker`), one worker that polls the task queue and runs `agentRun` workflows and
 * the model and tool activities. Workers hold no state, so any number of them can serve one queue;
 * configure them with env (README "Configuration"). The modules are in `runtime/`.
 */
import { loadWorkerConfig } from './src/config';
import { createAgentWorker } from './runtime/create-worker';

export { buildRegistry, createAgentWorker } from './runtime/create-worker';
export { loadAgentModule, parseModuleList } from './runtime/agent-modules';
export { loadWorkerConfig, type WorkerConfig } from './src/config';

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

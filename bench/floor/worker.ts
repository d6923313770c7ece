/**
 * The floor's worker, a process of its own (`node --import tsx bench/floor/worker.ts`) configured
 * like the agent worker (runtime/create-worker.ts) from the same env and defaults: task queue,
 * prebuilt `WORKFLOW_BUNDLE`, the payload codec, heartbeat throttles, sticky timeout, shutdown grace,
 * and otherwise the SDK's polling and concurrency defaults. Prints the agent worker's ready line.
 */
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { payloadCodecs } from '../../codec';
import { createWorkerLogger, workerLogLevel } from '../../runtime/logging';
import { loadWorkerConfig } from '../../src/config';
import * as activities from './activities';

async function main(): Promise<void> {
  const config = loadWorkerConfig(process.env);
  if (!config.WORKFLOW_BUNDLE) throw new Error('WORKFLOW_BUNDLE is not set: the bench bundles the floor workflows');
  Runtime.install({ logger: createWorkerLogger(workerLogLevel()) });
  const connection = await NativeConnection.connect(config.connection);
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.TASK_QUEUE,
      workflowBundle: { codePath: config.WORKFLOW_BUNDLE },
      activities,
      dataConverter: { payloadCodecs: payloadCodecs(config.PAYLOAD_KEYS) },
      shutdownGraceTime: '10s',
      maxHeartbeatThrottleInterval: config.HEARTBEAT_THROTTLE_MS,
      defaultHeartbeatThrottleInterval: config.HEARTBEAT_THROTTLE_MS,
      stickyQueueScheduleToStartTimeout: config.WORKER_STICKY_TIMEOUT_SECONDS * 1000,
    });
    console.log(`worker: polling task queue "${config.TASK_QUEUE}" on ${config.TEMPORAL_ADDRESS} (floor)`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: Error) => {
  console.error(`floor worker: ${error.message}`);
  process.exit(1);
});

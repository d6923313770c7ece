/**
 * Finding a user's memory workflow (`memory:<userId>`), which answers only through a worker: with
 * none polling its task queue, a read fails at once, saying so, instead of waiting.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { memoryWorkflowId } from '../src/contract';
import { AgentClientError, ClientErrorKind } from '../src/errors';
import { quote } from './run-status';
import { startWorkerHint } from './shell-hints';
import { taskQueueWorkers } from './task-queue-pollers';
import type { Call } from './temporal-calls';

/**
 * The handle of `userId`'s memory workflow, or undefined if there is none. It answers only through a
 * worker, so with none polling its task queue this fails at once, saying so, instead of waiting.
 */
export async function memoryHandle(client: Client, call: Call, userId: string): Promise<WorkflowHandle | undefined> {
  const handle = client.workflow.getHandle(memoryWorkflowId(userId));
  let taskQueue: string;
  try {
    ({ taskQueue } = await handle.describe());
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    return call(() => Promise.reject(error), handle.workflowId);
  }
  if (!(await taskQueueWorkers(client, call, taskQueue)).workflow) {
    throw new AgentClientError(
      `no worker is polling task queue "${taskQueue}" to read the memory of user ${quote(userId)} (${startWorkerHint(taskQueue)})`,
      ClientErrorKind.unreachable,
    );
  }
  return handle;
}

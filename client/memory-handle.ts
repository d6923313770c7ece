/**
 * Finding a user's memory workflows: the shared one (`memory:<userId>`) and each agent's own
 * (`memory@<agent>:<userId>`, the default scope). They answer only through a worker: with none
 * polling a memory's task queue, a read fails at once, saying so, instead of waiting.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import { memoryOfWorkflowId, memoryWorkflowId, searchAttributes, WorkflowType } from '../src/contract';
import { AGENT_NAME } from '../src/agent';
import { AgentClientError, ClientErrorKind } from '../src/errors';
import type { UserMemoryInput } from '../src/types';
import { quote } from './run-status';
import { startWorkerHint } from './shell-hints';
import { taskQueueWorkers } from './task-queue-pollers';
import type { Call } from './temporal-calls';

/** A memory workflow of the user's that is there to read, and whose it is. */
export interface FoundMemory {
  memory: UserMemoryInput;
  handle: WorkflowHandle;
}

/**
 * `userId`'s memories: with `agent`, that agent's own; without, the shared one and every agent's
 * own. An agent's memory is found by its search attributes (`AgentUser`, set when it starts), so a
 * memory that started a moment ago may take the server's visibility delay (about a second) to list.
 */
export async function userMemories(client: Client, call: Call, userId: string, agent?: string): Promise<FoundMemory[]> {
  if (agent !== undefined && !AGENT_NAME.test(agent)) {
    throw new AgentClientError(
      `invalid agent name ${JSON.stringify(agent)}: must match ${AGENT_NAME}`,
      ClientErrorKind.invalidInput,
    );
  }
  const ids = new Set([memoryWorkflowId(userId, agent)]);
  if (agent === undefined) {
    const query = [
      `WorkflowType = ${quote(WorkflowType.userMemory)}`,
      `${searchAttributes.agentUser.name} = ${quote(userId)}`,
      'ExecutionStatus != "ContinuedAsNew"',
    ].join(' AND ');
    await call(async () => {
      for await (const execution of client.workflow.list({ query })) ids.add(execution.workflowId);
    });
  }
  const found: FoundMemory[] = [];
  const polledQueues = new Set<string>();
  for (const workflowId of ids) {
    // Only a memory whose id names this user (a search attribute is anyone's to set).
    const memory = memoryOfWorkflowId(workflowId);
    if (memory?.userId !== userId) continue;
    const handle = client.workflow.getHandle(workflowId);
    const taskQueue = await taskQueueOf(handle, call);
    if (taskQueue === undefined) continue;
    if (!polledQueues.has(taskQueue)) await expectPolled(client, call, taskQueue, userId);
    polledQueues.add(taskQueue);
    found.push({ memory, handle });
  }
  return found;
}

/** The task queue of `handle`'s workflow; undefined if there is none. */
async function taskQueueOf(handle: WorkflowHandle, call: Call): Promise<string | undefined> {
  try {
    return (await handle.describe()).taskQueue;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    return call(() => Promise.reject(error), handle.workflowId);
  }
}

async function expectPolled(client: Client, call: Call, taskQueue: string, userId: string): Promise<void> {
  if ((await taskQueueWorkers(client, call, taskQueue)).workflow) return;
  throw new AgentClientError(
    `no worker is polling task queue "${taskQueue}" to read the memory of user ${quote(userId)} (${startWorkerHint(taskQueue)})`,
    ClientErrorKind.unreachable,
  );
}

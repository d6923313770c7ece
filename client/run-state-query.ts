/**
 * Asking a run for its own state (the `state` query) without waiting on a worker that is not there:
 * a query no worker takes waits half a minute for one, so it is sent only when a worker polls the
 * run's task queue, and given up on after a short deadline.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { stateQuery } from '../src/contract';
import { GrpcCode, grpcCode } from '../src/connection-errors';
import type { AgentRunState } from '../src/types';
import { taskQueueWorkers } from './task-queue-pollers';
import { runHandle, type Call } from './temporal-calls';
import type { TaskQueueWorkers } from './waiting';

/**
 * How long the `state` query of an open run may take before the run counts as unanswered: a worker
 * answers in milliseconds, while a query no worker takes waits (half a minute) for one.
 */
export const QUERY_TIMEOUT_MS = 2_000;

/**
 * Who polls the run's task queue, and the run's own state if a worker answers for it. A query to a
 * run no worker takes would wait (half a minute) for one, so it is not sent when none polls. A
 * closed run answers only through a worker that replays it: its state is a bonus, and failing to
 * get it no failure.
 */
export async function answerOf(
  client: Client,
  call: Call,
  workflowId: string,
  taskQueue: string,
  closed: boolean,
): Promise<{ workers?: TaskQueueWorkers; state?: AgentRunState }> {
  const workers = await taskQueueWorkers(client, call, taskQueue).catch(() => undefined);
  if (workers?.workflow === false) return { workers };
  const state = await queryWithin(client, call, workflowId, QUERY_TIMEOUT_MS).catch((error: unknown) => {
    if (closed) return undefined;
    throw error;
  });
  return { workers, state };
}

/** The run's state, or undefined if no worker answered within `timeoutMs`; other failures throw. */
export async function queryWithin(
  client: Client,
  call: Call,
  workflowId: string,
  timeoutMs: number,
): Promise<AgentRunState | undefined> {
  try {
    return await client.connection.withDeadline(Date.now() + timeoutMs, () =>
      runHandle(client, workflowId).query(stateQuery),
    );
  } catch (error) {
    // A missing run, an unreachable server or refused credentials are the caller's to hear. Anything
    // else means no worker answered (in time, or at all: a run no worker has started cannot be queried).
    const code = grpcCode(error);
    const told: (number | undefined)[] = [
      GrpcCode.notFound,
      GrpcCode.unavailable,
      GrpcCode.unauthenticated,
      GrpcCode.permissionDenied,
    ];
    if (!told.includes(code) && !(error instanceof WorkflowNotFoundError)) return undefined;
    return call(() => Promise.reject(error), workflowId);
  }
}

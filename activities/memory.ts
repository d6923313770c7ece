/**
 * Memory activities: read, add to and remove from a user's memory, the `userMemory` workflow
 * (`memory:<userId>`), through the worker's own client (so payload encryption applies). The first
 * `remember` starts that workflow (update-with-start); reading or forgetting never starts one.
 */
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { factsQuery, forgetUpdate, memoryWorkflowId, rememberUpdate, WorkflowType } from '../src/contract';
import { describeFailure } from '../src/failures';
import type { MemoryFact, UserMemoryInput } from '../src/types';

export interface MemoryCallInput {
  userId: string;
  fact: string;
  /**
   * The task queue a new memory workflow starts on: the calling run's own (its workflow task queue),
   * which workers registering `userMemory` poll. Activities may run on other queues, so the run says.
   */
  taskQueue: string;
}

/** `ok: false` carries why the memory refused the update, for the model to read. */
export type MemoryOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * An id per logical call, the same across the activity's retries, so a retried update is applied once
 * (and a retried `forget` still hears that it forgot). Absent outside a workflow: the server picks one.
 */
function updateId(operation: string): string | undefined {
  const { workflowExecution, activityId } = Context.current().info;
  return workflowExecution && `${operation}/${workflowExecution.workflowId}/${workflowExecution.runId}/${activityId}`;
}

/** A refused update (its validator rejected the fact) as the outcome the model reads; anything else is retried. */
async function outcomeOf<T>(update: () => Promise<T>): Promise<MemoryOutcome<T>> {
  try {
    return { ok: true, value: await update() };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError) return { ok: false, error: describeFailure(error.cause).message };
    throw error;
  }
}

export function createMemoryActivities() {
  return {
    /** The user's facts, oldest first; none for a user nothing was remembered about. */
    async recallFacts({ userId }: { userId: string }): Promise<MemoryFact[]> {
      try {
        return await Context.current().client.workflow.getHandle(memoryWorkflowId(userId)).query(factsQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return [];
        throw error;
      }
    },

    /** Remembers a fact about the user, starting the user's memory workflow if it has none; returns what was done. */
    async rememberFact({ userId, fact, taskQueue }: MemoryCallInput): Promise<MemoryOutcome<string>> {
      const memoryInput: UserMemoryInput = { userId };
      const startWorkflowOperation = new WithStartWorkflowOperation(WorkflowType.userMemory, {
        workflowId: memoryWorkflowId(userId),
        taskQueue,
        args: [memoryInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: `memory of user ${userId}`,
      });
      return outcomeOf(() =>
        Context.current().client.workflow.executeUpdateWithStart(rememberUpdate, {
          args: [{ fact }],
          startWorkflowOperation,
          updateId: updateId('remember'),
        }),
      );
    },

    /** Forgets a fact about the user; whether it was remembered. A user with no memory workflow gets none started. */
    async forgetFact({ userId, fact }: Omit<MemoryCallInput, 'taskQueue'>): Promise<MemoryOutcome<boolean>> {
      const handle = Context.current().client.workflow.getHandle(memoryWorkflowId(userId));
      try {
        return await outcomeOf(() =>
          handle.executeUpdate(forgetUpdate, { args: [{ fact }], updateId: updateId('forget') }),
        );
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { ok: true, value: false };
        throw error;
      }
    },
  };
}

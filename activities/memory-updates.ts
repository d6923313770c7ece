/**
 * Memory activities: read, add to and remove from a user's memory, a `userMemory` workflow
 * (`memoryWorkflowId`: the agent's own or the shared one), through the worker's own client (so
 * payload encryption applies). The first `remember` starts that workflow (update-with-start); reading
 * or forgetting never starts one. Updates to one memory queue up in the worker and retry while the
 * memory is congested, so that many writers at once all get through (see `MemoryUpdates`).
 */
import { Context } from '@temporalio/activity';
import {
  isGrpcServiceError,
  ServiceError,
  WithStartWorkflowOperation,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import {
  factsQuery,
  forgetUpdate,
  memoryWorkflowId,
  rememberUpdate,
  searchAttributes,
  WorkflowType,
} from '../src/contract';
import { describeFailure } from '../src/failures';
import { RUN_ID_MAX_BYTES } from '../src/run-id';
import { utf8Bytes } from '../src/validation';
import type { MemoryFact, UserMemoryInput } from '../src/types';
import type { MemoryCallInput, MemoryOutcome } from '../src/activity-contract';

/**
 * An id per logical call, the same across the activity's retries, so a retried update is applied once
 * (and a retried `forget` still hears that it forgot). Absent outside a workflow: the server picks one.
 */
function updateId(operation: string): string | undefined {
  const { workflowExecution, activityId } = Context.current().info;
  return workflowExecution && `${operation}/${workflowExecution.workflowId}/${workflowExecution.runId}/${activityId}`;
}

/**
 * Updates one worker sends one memory at once; the rest wait their turn here. Temporal holds at most
 * 10 updates in flight per workflow and refuses more with RESOURCE_EXHAUSTED, which its client
 * retries only after a second or more, and a busy memory's worker may leave updates unanswered: 50
 * writers at once got 12-18 updates a second and some failed; queued, 60-100. At 4, two workers
 * writing one memory stay under the limit.
 */
const UPDATES_IN_FLIGHT_PER_MEMORY = 4;
/** How long an update keeps being retried while its memory is congested, within the activity's timeout. */
const CONGESTION_BUDGET_MS = 30_000;
const BACKOFF = { firstMs: 100, mostMs: 2_000 } as const;
/** gRPC RESOURCE_EXHAUSTED and UNAVAILABLE. */
const TRANSIENT_CODES: readonly number[] = [8, 14];

/**
 * Whether `error` says the update was not applied, for a reason that passes, so it is sent again
 * (under the same update id, so it is applied once): the memory's limit of updates in flight
 * (RESOURCE_EXHAUSTED), an update the server dropped (`workflow update was aborted`, UNAVAILABLE) or
 * whose worker left it unanswered while busy (`UnprocessedUpdate`, a rejection by the server, never
 * by the memory's validator), or no answer in time.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (error instanceof WorkflowUpdateFailedError) return describeFailure(error.cause).type === 'UnprocessedUpdate';
  const cause = error instanceof ServiceError ? error.cause : error;
  return isGrpcServiceError(cause) && TRANSIENT_CODES.includes(cause.code);
}

/**
 * The updates of this worker's activities, by memory: at most `limit` in flight per memory, the
 * others queued in arrival order, and each retried after a jittered backoff while its memory is
 * congested, for up to `budgetMs`. A memory with nothing in flight is forgotten.
 */
export class MemoryUpdates {
  private readonly lanes = new Map<string, { running: number; waiting: (() => void)[] }>();

  constructor(
    private readonly limit = UPDATES_IN_FLIGHT_PER_MEMORY,
    private readonly budgetMs = CONGESTION_BUDGET_MS,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => Context.current().sleep(ms),
  ) {}

  /** Runs `update` on memory `workflowId` in its turn, retrying it while the memory is congested. */
  async send<T>(workflowId: string, update: () => Promise<T>): Promise<T> {
    await this.turn(workflowId);
    try {
      return await this.retried(update);
    } finally {
      this.done(workflowId);
    }
  }

  private async turn(workflowId: string): Promise<void> {
    const lane = this.lanes.get(workflowId) ?? { running: 0, waiting: [] };
    this.lanes.set(workflowId, lane);
    if (lane.running < this.limit) {
      lane.running += 1;
      return;
    }
    await new Promise<void>((resolve) => lane.waiting.push(resolve));
  }

  /** Hands the finished update's place to the next one waiting, if any. */
  private done(workflowId: string): void {
    const lane = this.lanes.get(workflowId)!;
    const next = lane.waiting.shift();
    if (next) next();
    else if (--lane.running === 0) this.lanes.delete(workflowId);
  }

  private async retried<T>(update: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.budgetMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await update();
      } catch (error) {
        // Full jitter: writers refused together do not all come back together.
        const delayMs = Math.random() * Math.min(BACKOFF.mostMs, BACKOFF.firstMs * 2 ** attempt);
        if (!isTransient(error) || Date.now() + delayMs > deadline) throw error;
        await this.sleep(delayMs);
      }
    }
  }
}

/** A refused update (its validator rejected the fact) as the outcome the model reads; anything else is thrown. */
async function outcomeOf<T>(update: () => Promise<T>): Promise<MemoryOutcome<T>> {
  try {
    return { ok: true, value: await update() };
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError && !isTransient(error)) {
      return { ok: false, error: describeFailure(error.cause).message };
    }
    throw error;
  }
}

/**
 * The workflow id of the user's memory (`memoryWorkflowId`), or undefined when it is too long to be
 * one: SQL stores (PostgreSQL, MySQL) keep a workflow id in 255 characters, and the agent's name and
 * the prefixes make a memory's id up to 72 bytes longer than the user id. A longer one would be
 * refused by the server as an internal error and retried until the call's timeout; it is refused
 * here at once, on every store alike.
 */
function storableMemoryId(userId: string, agent?: string): string | undefined {
  const workflowId = memoryWorkflowId(userId, agent);
  return utf8Bytes(workflowId) <= RUN_ID_MAX_BYTES ? workflowId : undefined;
}

/** What `remember` answers for a user whose memory's id would be too long. */
const USER_ID_TOO_LONG =
  `nothing can be remembered for this user: the user id is too long for a memory ` +
  `(a memory's workflow id, which holds it, may have at most ${RUN_ID_MAX_BYTES} bytes)`;

export function createMemoryActivities(updates = new MemoryUpdates()) {
  return {
    /** The user's facts, oldest first; none for a user nothing was remembered about. */
    async recallFacts({ userId, agent }: UserMemoryInput): Promise<MemoryFact[]> {
      const workflowId = storableMemoryId(userId, agent);
      if (!workflowId) return [];
      try {
        const handle = Context.current().client.workflow.getHandle(workflowId);
        return await handle.query(factsQuery);
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return [];
        throw error;
      }
    },

    /** Remembers a fact about the user, starting the memory workflow if there is none; returns what was done. */
    async rememberFact({ userId, agent, fact, taskQueue }: MemoryCallInput): Promise<MemoryOutcome<string>> {
      const memoryInput: UserMemoryInput = { userId, ...(agent !== undefined && { agent }) };
      const workflowId = storableMemoryId(userId, agent);
      if (!workflowId) return { ok: false, error: USER_ID_TOO_LONG };
      const startWorkflowOperation = () =>
        new WithStartWorkflowOperation(WorkflowType.userMemory, {
          workflowId,
          taskQueue,
          args: [memoryInput],
          workflowIdConflictPolicy: 'USE_EXISTING',
          // How a client finds every memory of a user's (`durable-agents memory <user>`).
          typedSearchAttributes: [
            { key: searchAttributes.agentUser, value: userId },
            ...(agent === undefined ? [] : [{ key: searchAttributes.agentName, value: agent }]),
          ],
          staticSummary:
            agent === undefined ? `memory of user ${userId}` : `memory of agent ${agent} for user ${userId}`,
        });
      const id = updateId('remember');
      return updates.send(workflowId, () =>
        outcomeOf(() =>
          Context.current().client.workflow.executeUpdateWithStart(rememberUpdate, {
            args: [{ fact }],
            // An operation is used once: each try gets its own.
            startWorkflowOperation: startWorkflowOperation(),
            updateId: id,
          }),
        ),
      );
    },

    /** Forgets a fact about the user; whether it was remembered. A user with no memory workflow gets none started. */
    async forgetFact({ userId, agent, fact }: Omit<MemoryCallInput, 'taskQueue'>): Promise<MemoryOutcome<boolean>> {
      const workflowId = storableMemoryId(userId, agent);
      if (!workflowId) return { ok: true, value: false };
      const handle = Context.current().client.workflow.getHandle(workflowId);
      const id = updateId('forget');
      try {
        return await updates.send(workflowId, () =>
          outcomeOf(() => handle.executeUpdate(forgetUpdate, { args: [{ fact }], updateId: id })),
        );
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return { ok: true, value: false };
        throw error;
      }
    },
  };
}

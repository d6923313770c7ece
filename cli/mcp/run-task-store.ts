/**
 * MCP tasks kept in Temporal (the SDK's experimental `TaskStore`): a task's id is its agent run's
 * workflow id, its status and result are the run's, read from Temporal on every ask. The MCP server
 * holds nothing, so a client fetches a task's result from another process, after either side
 * restarted, as long as Temporal keeps the run (its namespace's retention).
 */
import { WorkflowNotFoundError } from '@temporalio/client';
import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Result, Task } from '@modelcontextprotocol/sdk/types.js';
import { reportedStatus, type AgentClient, type RunSummary } from '../../client/agent-client';
import { searchAttributes, WorkflowType } from '../../src/contract';
import { AgentClientError } from '../../src/errors';
import { RunStatus } from '../../src/types';
import { runFailedResult, runResultContent } from './run-tool-results';

/** How often a client is asked to poll a task (ms): a run's steps take seconds. */
export const TASK_POLL_INTERVAL_MS = 1_000;

/** The run id a tool's `createTask` puts into the task's context. */
export interface RunTaskContext {
  runId: string;
}

/** A run as a task sees it; `cancelRequested` where it was read (a description has it, a listing not). */
type TaskRun = Pick<RunSummary, 'workflowId' | 'status' | 'closed' | 'startTime'> & { cancelRequested?: boolean };

const RESULT_STATUSES: string[] = [RunStatus.completed, RunStatus.limitReached, RunStatus.stuck];

/**
 * An open run is `working`, or `cancelled` once a cancel was asked of it: MCP wants `tasks/cancel` to
 * answer with the task cancelled, and the run may take a while to stop. A closed run is how it ended.
 */
function taskStatus(run: TaskRun): Task['status'] {
  if (!run.closed) return run.cancelRequested ? 'cancelled' : 'working';
  if (RESULT_STATUSES.includes(run.status)) return 'completed';
  return run.status === RunStatus.cancelled ? 'cancelled' : 'failed';
}

/** What a task says of an open run: that it is stopping, or how to go on when it waits for a person. */
function openRunMessage(run: TaskRun): string | undefined {
  if (run.closed) return undefined;
  if (run.cancelRequested) return `cancel requested: run ${run.workflowId} is stopping`;
  if (run.status !== RunStatus.awaitingApproval) return undefined;
  return `awaiting approval: agent_status lists the calls of run ${run.workflowId}, agent_approve decides them`;
}

/** A run as an MCP task: its status (taskStatus), and what an open run is doing when that needs saying. */
export function taskOf(run: TaskRun): Task {
  const statusMessage = openRunMessage(run);
  return {
    taskId: run.workflowId,
    status: taskStatus(run),
    // The run stays as long as its namespace's retention keeps it: no TTL of the server's own.
    ttl: null,
    createdAt: run.startTime.toISOString(),
    lastUpdatedAt: new Date().toISOString(),
    pollInterval: TASK_POLL_INTERVAL_MS,
    ...(statusMessage && { statusMessage }),
  };
}

/**
 * How long a run's result waits for the progress told of it to catch up (ms): the progress reads the
 * run as it goes, a little behind, and what it tells after the answer would reach no one.
 */
const PROGRESS_CATCH_UP_MS = 3_000;

export class RunTaskStore implements TaskStore {
  /** The progress being told of runs this server started, by run id: their results wait for it. */
  private readonly progress = new Map<string, Promise<void>>();

  /**
   * `closed`: the connection this store serves has gone (an HTTP request's): the SDK's polling of a
   * call that was not task-augmented stops asking, instead of asking until the run ends.
   */
  constructor(
    private readonly agents: AgentClient,
    private readonly closed?: AbortSignal,
  ) {}

  /** Lets the result of run `runId` wait (a little) until `telling` has told the run's progress. */
  tellingProgress(runId: string, telling: Promise<void>): void {
    this.progress.set(runId, telling);
    void telling.then(() => this.progress.delete(runId));
  }

  /** The run has started already (the tool's `createTask` started it): this only names it as a task. */
  async createTask(options: CreateTaskOptions): Promise<Task> {
    const { runId } = (options.context ?? {}) as Partial<RunTaskContext>;
    const task = runId && (await this.getTask(runId));
    if (!task) throw new Error('a task is created only for a run the tool started');
    return task;
  }

  /**
   * The run's task, from its description alone (its status search attribute, kept true by the run):
   * cheap enough to be asked every poll. Undefined for an id that names no agent run.
   */
  async getTask(taskId: string): Promise<Task | null> {
    if (this.closed?.aborted) throw new Error('the connection closed; the run goes on');
    let description;
    try {
      description = await this.agents.client.workflow.getHandle(taskId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
    if (description.type !== WorkflowType.agentRun) return null;
    const attribute = description.typedSearchAttributes.get(searchAttributes.agentStatus);
    const run = {
      workflowId: taskId,
      status: reportedStatus(attribute, description.status.name),
      closed: description.status.name !== 'RUNNING',
      startTime: description.startTime,
      cancelRequested: description.raw.workflowExtendedInfo?.cancelRequested ?? false,
    };
    return taskOf(run);
  }

  /** Temporal holds the run's result: nothing to store. */
  async storeTaskResult(): Promise<void> {}

  /** The run's answer, or its failure (one line, as `result` words it) as a tool error. */
  async getTaskResult(taskId: string): Promise<Result> {
    const telling = this.progress.get(taskId);
    if (telling) await Promise.race([telling, new Promise((resolve) => setTimeout(resolve, PROGRESS_CATCH_UP_MS))]);
    try {
      return runResultContent(taskId, await this.agents.result(taskId));
    } catch (error) {
      if (error instanceof AgentClientError) return runFailedResult(error.message);
      throw error;
    }
  }

  /**
   * The one change a client asks for is `tasks/cancel`: the run is asked to stop, and its task reads
   * `cancelled` from then on (getTask: the run's description says a cancel was requested).
   */
  async updateTaskStatus(taskId: string, status: Task['status']): Promise<void> {
    if (status === 'cancelled') await this.agents.cancel(taskId);
  }

  /**
   * The newest agent runs, as tasks: the list's own bound (50), no further pages. The listing does not
   * know of cancel requests (only a description does, one call per run): a stopping run is `working` here.
   */
  async listTasks(): Promise<{ tasks: Task[] }> {
    return { tasks: (await this.agents.list({})).map(taskOf) };
  }
}

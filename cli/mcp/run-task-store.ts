/**
 * MCP tasks kept in Temporal (the SDK's experimental `TaskStore`): a task's id is its agent run's
 * workflow id, its status and result are the run's, read from Temporal on every ask. The MCP server
 * holds nothing, so a client fetches a task's result from another process, after either side
 * restarted, as long as Temporal keeps the run (its namespace's retention).
 */
import type { CreateTaskOptions, TaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import type { Result, Task } from '@modelcontextprotocol/sdk/types.js';
import type { AgentClient, RunReport, RunSummary } from '../../client/agent-client';
import { AgentClientError, ClientErrorKind } from '../../src/errors';
import { RunStatus } from '../../src/types';
import { runFailedResult, runResultContent } from './run-tool-results';

/** How often a client is asked to poll a task (ms): a run's steps take seconds. */
export const TASK_POLL_INTERVAL_MS = 1_000;

/** The run id a tool's `createTask` puts into the task's context. */
export interface RunTaskContext {
  runId: string;
}

/** What a task says while its run waits for a person: how to go on. */
function waitingMessage(report: RunReport): string | undefined {
  const pending = report.state?.pendingApprovals ?? [];
  if (report.status !== RunStatus.awaitingApproval || !pending.length) return report.status;
  const calls = pending.map(({ callId, tool }) => `${callId} (${tool})`).join(', ');
  return `awaiting approval of ${calls}: call agent_approve with runId ${report.workflowId}`;
}

const RESULT_STATUSES: string[] = [RunStatus.completed, RunStatus.limitReached, RunStatus.stuck];

/** A run as an MCP task: `working` while it is open, then how it ended (a result, a cancel, a failure). */
export function taskOf(
  run: Pick<RunSummary, 'workflowId' | 'status' | 'closed' | 'startTime'>,
  statusMessage?: string,
): Task {
  const status: Task['status'] = !run.closed
    ? 'working'
    : RESULT_STATUSES.includes(run.status)
      ? 'completed'
      : run.status === RunStatus.cancelled
        ? 'cancelled'
        : 'failed';
  return {
    taskId: run.workflowId,
    status,
    // The run stays as long as its namespace's retention keeps it: no TTL of the server's own.
    ttl: null,
    createdAt: run.startTime.toISOString(),
    lastUpdatedAt: new Date().toISOString(),
    pollInterval: TASK_POLL_INTERVAL_MS,
    ...(statusMessage && { statusMessage }),
  };
}

/** A run's report as a task, saying what an open run waits for or why a closed one failed. */
function reportTask(report: RunReport): Task {
  return taskOf(report, report.closed ? report.failure?.error : waitingMessage(report));
}

/** A report, or undefined for an id that names no run (a task not found, as the protocol says it). */
async function reportOrNone(agents: AgentClient, runId: string): Promise<RunReport | undefined> {
  try {
    return await agents.report(runId);
  } catch (error) {
    if (error instanceof AgentClientError && error.kind === ClientErrorKind.notFound) return undefined;
    throw error;
  }
}

export class RunTaskStore implements TaskStore {
  constructor(private readonly agents: AgentClient) {}

  /** The run has started already (the tool's `createTask` started it): this only names it as a task. */
  async createTask(options: CreateTaskOptions): Promise<Task> {
    const { runId } = (options.context ?? {}) as Partial<RunTaskContext>;
    if (!runId) throw new Error('a task is created only for a run the tool started');
    return reportTask(await this.agents.report(runId));
  }

  async getTask(taskId: string): Promise<Task | null> {
    const report = await reportOrNone(this.agents, taskId);
    return report ? reportTask(report) : null;
  }

  /** Temporal holds the run's result: nothing to store. */
  async storeTaskResult(): Promise<void> {}

  async getTaskResult(taskId: string): Promise<Result> {
    const report = await this.agents.report(taskId);
    if (report.result) return runResultContent(taskId, report.result);
    if (report.failure) return runFailedResult(report.failure.error);
    throw new Error(`run ${taskId} has not finished (${report.status})`);
  }

  /** The one change a client asks for is `tasks/cancel`: the run is asked to stop. */
  async updateTaskStatus(taskId: string, status: Task['status']): Promise<void> {
    if (status === 'cancelled') await this.agents.cancel(taskId);
  }

  /** The newest agent runs, as tasks: the list's own bound (50), no further pages. */
  async listTasks(): Promise<{ tasks: Task[] }> {
    return { tasks: (await this.agents.list({})).map((run) => taskOf(run)) };
  }
}

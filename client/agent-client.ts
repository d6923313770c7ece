/**
 * Talking to agent runs from code: start one and get its handle at once, then send messages, decide
 * approvals, read its state and fetch its result later. The CLI (`client.ts`) is a thin layer on this.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { payloadCodecs } from '../codec';
import { loadTemporalConfig, type TemporalConfig } from '../src/config';
import {
  approvalUpdate,
  chatUpdate,
  endSignal,
  enqueueUpdate,
  searchAttributes,
  stateQuery,
  WorkflowType,
} from '../src/contract';
import { AgentClientError, ClientErrorKind, ErrorType } from '../src/errors';
import { describeFailure } from '../src/failures';
import { agentRunInputSchema, type AgentRunInput } from '../src/input';
import {
  RunStatus,
  type AgentRunResult,
  type AgentRunState,
  type ApprovalDecision,
  type ChatMessage,
  type PendingApproval,
} from '../src/types';
import { describeIssues } from '../src/validation';
import type { agentRun } from '../workflows';

export interface RunSummary {
  workflowId: string;
  status: RunStatus | string;
  agent?: string;
  user?: string;
  steps?: number;
  tokens?: number;
  costUsd?: number;
  startTime: Date;
  closed: boolean;
}

/** What `watch` reports: each new transcript entry, and each change of status. */
export type RunEvent =
  | { type: 'message'; message: ChatMessage }
  | { type: 'status'; status: RunStatus; pendingApprovals: PendingApproval[] };

export interface ListFilter {
  status?: string;
  agent?: string;
  user?: string;
  limit?: number;
}

/** gRPC status codes the server answers with (see grpc.io's status-code table). */
const GrpcCode = { notFound: 5, unavailable: 14 } as const;

function grpcCode(error: unknown): number | undefined {
  const withCode = error as { code?: unknown; cause?: { code?: unknown } };
  const code = withCode?.code ?? withCode?.cause?.code;
  return typeof code === 'number' ? code : undefined;
}

const quote = (value: string): string => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** Statuses only an open run can have: a closed run still showing one was terminated or timed out. */
const LIVE_STATUSES: readonly string[] = [
  RunStatus.starting,
  RunStatus.running,
  RunStatus.awaitingInput,
  RunStatus.awaitingApproval,
];

/** How a closed execution ended, for a run whose own status attribute did not say (terminated, timed out). */
const CLOSED_STATUSES: Partial<Record<WorkflowExecutionStatusName, string>> = {
  COMPLETED: RunStatus.completed,
  FAILED: RunStatus.failed,
  CANCELLED: RunStatus.cancelled,
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: RunStatus.continued,
};

/**
 * The status to show for a run: its `AgentStatus`, unless the run has closed without saying how
 * (it was terminated, timed out, or its attribute lags), in which case Temporal's own status.
 */
export function reportedStatus(attribute: string | undefined, execution: WorkflowExecutionStatusName): string {
  if (execution === 'RUNNING') return attribute ?? RunStatus.starting;
  if (attribute && !LIVE_STATUSES.includes(attribute)) return attribute;
  return CLOSED_STATUSES[execution] ?? execution.toLowerCase();
}

/** Checks a run's input with the schema the run uses; throws the one-line error a caller shows. */
export function checkRunInput(input: AgentRunInput): void {
  const checked = agentRunInputSchema.safeParse(input);
  if (!checked.success) {
    throw new AgentClientError(
      `invalid input: ${describeIssues(checked.error)}`,
      ClientErrorKind.invalidInput,
      ErrorType.InvalidAgentInput,
    );
  }
}

/** A Temporal visibility query for agent runs matching `filter`. */
export function listQuery(filter: ListFilter): string {
  const live = filter.status !== undefined && LIVE_STATUSES.includes(filter.status);
  return [
    `WorkflowType = ${quote(WorkflowType.agentRun)}`,
    // A chain that continued as new is one run to its callers: its latest execution stands for it.
    'ExecutionStatus != "ContinuedAsNew"',
    ...(filter.status ? [`${searchAttributes.agentStatus.name} = ${quote(filter.status)}`] : []),
    // A terminated run keeps the status it had: only open runs are waiting or working.
    ...(live ? ['ExecutionStatus = "Running"'] : []),
    ...(filter.agent ? [`${searchAttributes.agentName.name} = ${quote(filter.agent)}`] : []),
    ...(filter.user ? [`${searchAttributes.agentUser.name} = ${quote(filter.user)}`] : []),
  ].join(' AND ');
}

export class AgentClient {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly config: TemporalConfig,
  ) {}

  /**
   * Connects with the env configuration (`TEMPORAL_ADDRESS`, profiles, `PAYLOAD_KEYS`, ...); fails
   * fast if the server is unreachable, and before connecting if `PAYLOAD_KEYS` is malformed.
   */
  static async connect(config: TemporalConfig = loadTemporalConfig()): Promise<AgentClient> {
    // With keys, what the client sends is encrypted and what it reads decrypted; without, nothing changes.
    const dataConverter = { payloadCodecs: payloadCodecs(config.PAYLOAD_KEYS) };
    let connection: Connection;
    try {
      connection = await Connection.connect({ ...config.connection, connectTimeout: 5_000 });
      await connection.workflowService.getSystemInfo({});
    } catch (error) {
      throw new AgentClientError(
        `cannot reach Temporal at ${config.TEMPORAL_ADDRESS}: ${(error as Error).message}`,
        ClientErrorKind.unreachable,
      );
    }
    return new AgentClient(
      new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter }),
      connection,
      config,
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Starts a run and returns its id (the handle) at once. The input is checked here with the schema
   * the run uses, so a bad one fails in one line before anything reaches Temporal (an oversize
   * `userId` would otherwise be refused by the server as a search attribute, with no reason given).
   */
  async start(input: AgentRunInput, options: { workflowId?: string } = {}): Promise<string> {
    checkRunInput(input);
    const preview = input.message.length > 60 ? `${input.message.slice(0, 57)}...` : input.message;
    const handle = await this.call(() =>
      this.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
        taskQueue: this.config.TASK_QUEUE,
        workflowId: options.workflowId ?? `${input.agent}-${randomUUID()}`,
        args: [input],
        staticSummary: `${input.agent}: ${preview}`,
        typedSearchAttributes: [
          { key: searchAttributes.agentName, value: input.agent },
          { key: searchAttributes.agentStatus, value: 'starting' },
          ...(input.userId ? [{ key: searchAttributes.agentUser, value: input.userId }] : []),
        ],
      }),
    );
    return handle.workflowId;
  }

  /** Sends a message to a session and waits for the reply to it (the `chat` update). */
  async chat(workflowId: string, text: string): Promise<string> {
    return this.call(() => this.handle(workflowId).executeUpdate(chatUpdate, { args: [{ text }] }), workflowId);
  }

  /** Queues a message to a session without waiting for its reply (the `enqueue` update: validated, returns once queued). */
  async message(workflowId: string, text: string): Promise<string> {
    return this.call(() => this.handle(workflowId).executeUpdate(enqueueUpdate, { args: [{ text }] }), workflowId);
  }

  async end(workflowId: string): Promise<void> {
    await this.call(() => this.handle(workflowId).signal(endSignal), workflowId);
  }

  /** Approves or denies a tool call awaiting approval; returns what the run did with the decision. */
  async decide(workflowId: string, { callId, approve, note }: ApprovalDecision): Promise<string> {
    return this.call(
      () =>
        this.handle(workflowId).executeUpdate(approvalUpdate, { args: [{ callId, approve, ...(note && { note }) }] }),
      workflowId,
    );
  }

  async state(workflowId: string): Promise<AgentRunState> {
    return this.call(() => this.handle(workflowId).query(stateQuery), workflowId);
  }

  /** Whether the run has closed (completed, failed, cancelled, ...). */
  async isClosed(workflowId: string): Promise<boolean> {
    const description = await this.call(() => this.handle(workflowId).describe(), workflowId);
    return description.status.name !== 'RUNNING';
  }

  /** Follows a run, yielding new messages and status changes, until the run closes. */
  async *watch(workflowId: string, pollMs = 500): AsyncGenerator<RunEvent> {
    let shown = 0;
    let lastStatus: string | undefined;
    for (;;) {
      const closed = await this.isClosed(workflowId);
      const state = await this.state(workflowId);
      for (const message of state.messages.slice(shown)) yield { type: 'message', message };
      shown = state.messages.length;
      const pending = state.pendingApprovals.map((approval) => approval.callId).join();
      if (`${state.status}:${pending}` !== lastStatus) {
        lastStatus = `${state.status}:${pending}`;
        yield { type: 'status', status: state.status, pendingApprovals: state.pendingApprovals };
      }
      if (closed) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** Waits for the run to finish and returns its result; a failed run throws with its failure type. */
  async result(workflowId: string): Promise<AgentRunResult> {
    return this.call(() => this.handle(workflowId).result(), workflowId);
  }

  async cancel(workflowId: string): Promise<void> {
    await this.call(() => this.handle(workflowId).cancel(), workflowId);
  }

  async list(filter: ListFilter = {}): Promise<RunSummary[]> {
    const runs: RunSummary[] = [];
    const executions = this.client.workflow.list({ query: listQuery(filter), pageSize: 100 });
    await this.call(async () => {
      for await (const execution of executions) {
        const attributes = execution.typedSearchAttributes;
        runs.push({
          workflowId: execution.workflowId,
          status: reportedStatus(attributes.get(searchAttributes.agentStatus), execution.status.name),
          agent: attributes.get(searchAttributes.agentName),
          user: attributes.get(searchAttributes.agentUser),
          steps: attributes.get(searchAttributes.agentSteps),
          tokens: attributes.get(searchAttributes.agentTokens),
          costUsd: attributes.get(searchAttributes.agentCostUsd),
          startTime: execution.startTime,
          closed: execution.status.name !== 'RUNNING',
        });
        if (runs.length >= (filter.limit ?? 50)) break;
      }
    });
    return runs;
  }

  /** How the run with this id closed (`completed`, `been cancelled`, ...), if it exists and has. */
  private async closedStatus(workflowId: string): Promise<string | undefined> {
    try {
      const { status } = await this.handle(workflowId).describe();
      if (status.name === 'RUNNING') return undefined;
      const ended = reportedStatus(undefined, status.name);
      return ended === RunStatus.completed || ended === RunStatus.failed || ended === 'timed_out'
        ? ended.replace('_', ' ')
        : `been ${ended}`;
    } catch {
      return undefined;
    }
  }

  private handle(workflowId: string): WorkflowHandle<typeof agentRun> {
    return this.client.workflow.getHandle<typeof agentRun>(workflowId);
  }

  /** Runs a Temporal call, turning its errors into one-line AgentClientErrors. */
  private async call<T>(operation: () => Promise<T>, workflowId?: string): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || grpcCode(error) === GrpcCode.notFound) {
        // An update or signal to a run that has closed is answered "not found" too: say which it is.
        const closed = workflowId ? await this.closedStatus(workflowId) : undefined;
        if (closed) throw new AgentClientError(`run ${workflowId} has already ${closed}`, ClientErrorKind.closed);
        throw new AgentClientError(`no run with id ${workflowId}`, ClientErrorKind.notFound);
      }
      if (error instanceof WorkflowUpdateFailedError) {
        throw new AgentClientError(`rejected: ${describeFailure(error.cause).message}`, ClientErrorKind.rejected);
      }
      if (error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure) {
        throw new AgentClientError(`run ${workflowId} was cancelled`, ClientErrorKind.runCancelled);
      }
      if (error instanceof WorkflowFailedError && error.cause instanceof TerminatedFailure) {
        const reason =
          error.cause.message && error.cause.message !== 'Workflow execution terminated'
            ? `: ${error.cause.message}`
            : '';
        throw new AgentClientError(`run ${workflowId} was terminated${reason}`, ClientErrorKind.runTerminated);
      }
      if (error instanceof WorkflowFailedError) {
        const failure = describeFailure(error.cause);
        throw new AgentClientError(
          `run ${workflowId} ${failure.type ? `failed with ${failure.type}` : 'failed'}: ${failure.message}`,
          ClientErrorKind.runFailed,
          failure.type,
        );
      }
      if (grpcCode(error) === GrpcCode.unavailable) {
        throw new AgentClientError(
          `cannot reach Temporal at ${this.config.TEMPORAL_ADDRESS}`,
          ClientErrorKind.unreachable,
        );
      }
      throw error;
    }
  }
}

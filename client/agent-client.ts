/**
 * Talking to agent runs from code: start one and get its handle at once, then send messages, decide
 * approvals, read its state and fetch its result later. The CLI (`cli.ts`) is a thin layer on this.
 */
import { randomUUID } from 'node:crypto';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  NamespaceNotFoundError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  type WorkflowExecutionDescription,
  type WorkflowExecutionStatusName,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure, TerminatedFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { payloadCodecs } from '../codec';
import { historyPayloadDecoder } from '../src/history-payloads';
import { describeAddress, loadTemporalConfig, type TemporalConfig } from '../src/config';
import {
  approvalUpdate,
  chatUpdate,
  endSignal,
  enqueueUpdate,
  factsQuery,
  forgetUpdate,
  isMemoryWorkflowId,
  MEMORY_IDS_RESERVED,
  memoryWorkflowId,
  searchAttributes,
  stateQuery,
  WorkflowType,
} from '../src/contract';
import { AgentClientError, ClientErrorKind, ErrorType } from '../src/errors';
import { describeFailure } from '../src/failures';
import { agentRunInputSchema, approvalDecisionSchema, ApprovalSurface, type AgentRunInput } from '../src/input';
import { memoryFactInputSchema } from '../src/memory';
import { checkRunId } from '../src/run-id';
import {
  RunStatus,
  type AgentRunResult,
  type AgentRunState,
  type ApprovalDecision,
  type MemoryFact,
} from '../src/types';
import { describeIssues } from '../src/validation';
import type { agentRun } from '../workflows';
import { ActivitySummaries, summariesFromHistory } from './activity-summaries';
import { callsInFlight, withQueueWorkers, type CallInFlight, type LiveDescription } from './calls-in-flight';
import { clientInterceptors } from './client-tracing';
import { staticDetails, staticSummary } from './run-details';
import { withToolCalls, type ApprovalRecord } from './approval-records';
import {
  recordsFromHistory,
  totalUsage,
  type RunRecords,
  type RunTranscript,
  type StepUsage,
  type transcriptFromHistory,
} from './history-transcript';
import { CONNECT_TIMEOUT_MS, connectionCause, connectionHint, GrpcCode, grpcCode } from '../src/connection-errors';
import { listQuery, quote, reportedStatus, type ListFilter } from './run-status';
import { runStream, type RunStreamEvent, type StreamOptions } from './run-stream';
import type { ConnectOptions, RunFailure, RunReport, RunSummary } from './run-types';
import { programName, shellWord, startWorkerHint } from './shell-hints';
import { WaitTeller, type TaskQueueWorkers, type WaitNotice, type WaitOptions } from './waiting';

export type { ConnectOptions, RunFailure, RunReport, RunSummary } from './run-types';
export type { TaskQueueWorkers, WaitNotice, WaitOptions } from './waiting';
export type { RunStreamEvent, StreamOptions } from './run-stream';
export { connectionCause } from '../src/connection-errors';
export { listQuery, reportedStatus, type ListFilter } from './run-status';

const CHECK_EVERY_MS = 1_000;
/**
 * How long the `state` query of an open run may take before the run counts as unanswered: a worker
 * answers in milliseconds, while a query no worker takes waits (half a minute) for one.
 */
const QUERY_TIMEOUT_MS = 2_000;
/**
 * A poller the server last saw longer ago than this has gone. An idle worker's long poll returns
 * empty and is renewed about every minute (53-58 s measured on the dev server), and the server lists
 * a worker that stopped for minutes afterwards, with the time of its last poll.
 */
const POLLER_SEEN_WITHIN_MS = 70_000;

const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;

/** Milliseconds since the epoch of a protobuf timestamp. */
function timestampMs(timestamp: { seconds?: unknown; nanos?: number | null }): number {
  return Number(timestamp.seconds ?? 0) * 1_000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
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

/** Why a run closed without a result, and the kind of error `result()` throws for it. */
function runFailure(
  error: WorkflowFailedError,
  workflowId: string | undefined,
): { kind: ClientErrorKind; failure: RunFailure } {
  if (error.cause instanceof CancelledFailure) {
    const message = error.cause.message || 'cancelled';
    return { kind: ClientErrorKind.runCancelled, failure: { message, error: `run ${workflowId} was cancelled` } };
  }
  if (error.cause instanceof TerminatedFailure) {
    const message = error.cause.message || 'Workflow execution terminated';
    const reason = message !== 'Workflow execution terminated' ? `: ${message}` : '';
    return {
      kind: ClientErrorKind.runTerminated,
      failure: { message, error: `run ${workflowId} was terminated${reason}` },
    };
  }
  const { type, message } = describeFailure(error.cause);
  return {
    kind: ClientErrorKind.runFailed,
    failure: {
      ...(type && { type }),
      message,
      error: `run ${workflowId} ${type ? `failed with ${type}` : 'failed'}: ${message}`,
    },
  };
}

/** How a closed execution ended, after `has already`: `completed`, `failed`, `been cancelled`, ... */
function closedWording(execution: WorkflowExecutionStatusName): string {
  const ended = reportedStatus(undefined, execution);
  return ended === RunStatus.completed || ended === RunStatus.failed || ended === 'timed_out'
    ? ended.replace('_', ' ')
    : `been ${ended}`;
}

export class AgentClient {
  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly config: TemporalConfig,
  ) {}

  /**
   * Connects with the env configuration (`TEMPORAL_ADDRESS`, profiles, `PAYLOAD_KEYS`, ...); fails
   * before connecting if `PAYLOAD_KEYS` is malformed, at once (with the cause) if the connection is
   * refused or the host unknown, and after `connectTimeoutMs` (5 s) if the server does not answer.
   */
  static async connect(
    config: TemporalConfig = loadTemporalConfig(),
    options: ConnectOptions = {},
  ): Promise<AgentClient> {
    // With keys, what the client sends is encrypted and what it reads decrypted; without, nothing changes.
    const dataConverter = { payloadCodecs: payloadCodecs(config.PAYLOAD_KEYS) };
    const timeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    // `Connection.connect` waits for the channel to be ready, retrying a refused connection until its
    // deadline, and then reports only that the deadline passed. Instead the first call goes out
    // without waiting and without the SDK's retries, so grpc-js fails it as soon as the attempt fails,
    // naming why; once the server has answered, every call is retried as usual.
    let answered = false;
    const retry = defaultGrpcRetryOptions();
    const connection = Connection.lazy({
      ...config.connection,
      interceptors: [
        makeGrpcRetryInterceptor({
          ...retry,
          retryableDecider: (attempt, status) => answered && retry.retryableDecider(attempt, status),
        }),
      ],
    });
    try {
      await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    } catch (error) {
      // A server too old to know the call has answered all the same.
      if (grpcCode(error) !== GrpcCode.unimplemented) {
        await connection.close();
        throw AgentClient.connectionError(config, error, timeoutMs);
      }
    }
    answered = true;
    return new AgentClient(
      new Client({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        dataConverter,
        interceptors: await clientInterceptors(config),
      }),
      connection,
      config,
    );
  }

  /**
   * The one-line error for a server that cannot be reached (or refuses the credentials), with why this
   * address (`(TEMPORAL_ADDRESS)`, `(the default)`, ...) and what to do.
   */
  private static connectionError(config: TemporalConfig, error: unknown, timeoutMs?: number): AgentClientError {
    const code = grpcCode(error);
    if (code === GrpcCode.unauthenticated || code === GrpcCode.permissionDenied) {
      return new AgentClientError(
        `Temporal at ${describeAddress(config)} refused the credentials: ${connectionCause(error)} ` +
          '(check TEMPORAL_API_KEY, TEMPORAL_TLS_* or --profile)',
        ClientErrorKind.unreachable,
      );
    }
    return new AgentClientError(
      `cannot reach Temporal at ${describeAddress(config)}: ${connectionCause(error, timeoutMs)} ` +
        `(${connectionHint(config.TEMPORAL_ADDRESS)})`,
      ClientErrorKind.unreachable,
    );
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Whether live workers poll `taskQueue` (default: the configured one): a poller counts when the
   * server saw it within about a minute. Needs no worker, so a caller can say why a run waits.
   */
  async taskQueueWorkers(taskQueue: string = this.config.TASK_QUEUE): Promise<TaskQueueWorkers> {
    const [workflow, activity] = await this.call(() =>
      Promise.all([
        this.polled(taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        this.polled(taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
      ]),
    );
    return { taskQueue, workflow, activity };
  }

  /** Whether a live worker but `except` (the identity of one a call lost) polls `taskQueue` for activities. */
  private activityPolled(taskQueue: string, except?: string): Promise<boolean> {
    return this.call(() => this.polled(taskQueue, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY, except));
  }

  /** Whether a poller the server saw within about a minute, but `except`, polls `taskQueue` for that type of task. */
  private async polled(
    taskQueue: string,
    taskQueueType: temporal.api.enums.v1.TaskQueueType,
    except?: string,
  ): Promise<boolean> {
    const { pollers } = await this.client.workflowService.describeTaskQueue({
      namespace: this.client.options.namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType,
    });
    const now = Date.now();
    return (pollers ?? []).some(
      (poller) =>
        poller.identity !== except &&
        (!poller.lastAccessTime || now - timestampMs(poller.lastAccessTime) < POLLER_SEEN_WITHIN_MS),
    );
  }

  /**
   * A run's status without waiting for anything: its own state while it is open and a worker can
   * answer; what Temporal holds (search attributes, and how a closed run ended) otherwise.
   */
  async report(workflowId: string): Promise<RunReport> {
    const description = await this.call(() => this.handle(workflowId).describe(), workflowId);
    const attributes = description.typedSearchAttributes;
    const closed = description.status.name !== 'RUNNING';
    const base: RunReport = {
      workflowId,
      status: reportedStatus(attributes.get(searchAttributes.agentStatus), description.status.name),
      closed,
      taskQueue: description.taskQueue,
      agent: attributes.get(searchAttributes.agentName),
      userId: attributes.get(searchAttributes.agentUser),
      step: attributes.get(searchAttributes.agentSteps),
      tokens: attributes.get(searchAttributes.agentTokens),
      costUsd: attributes.get(searchAttributes.agentCostUsd),
      startTime: description.startTime,
      ...(description.closeTime && { closeTime: description.closeTime }),
      ...(await this.progress(workflowId, description)),
    };
    const { workers, state } = await this.answerOf(workflowId, description.taskQueue, closed);
    if (closed) {
      // How it ended is in history; its transcript and usage in and out, where a worker can replay it.
      const ending = { ...base, ...(await this.ending(workflowId)) };
      if (!state) return ending;
      // A terminated run ran no code to say so: its own last status and pending calls are stale.
      const truthful = { ...state, status: ending.status as RunStatus, pendingApprovals: [] };
      return { ...ending, usage: state.usage, state: truthful };
    }
    if (!state) {
      return { ...base, noWorker: workers ?? { taskQueue: description.taskQueue, workflow: false, activity: false } };
    }
    return {
      ...base,
      status: state.status,
      agent: state.agent,
      userId: state.userId,
      step: state.step,
      tokens: state.usage.totalTokens,
      costUsd: state.usage.costUsd,
      usage: state.usage,
      state,
    };
  }

  /**
   * A run's calls in flight (from `describe()`, named by their summaries in history) and its per-step
   * usage (from history, a chain's earlier runs included, as `transcript` reads it). History that
   * cannot be read or decoded (an encrypted run without its keys) only leaves out what it would tell.
   */
  private async progress(
    workflowId: string,
    description: WorkflowExecutionDescription,
  ): Promise<Pick<RunReport, 'callsInFlight' | 'stepUsage' | 'approvals'>> {
    const history = await this.client.workflow
      .getHandle(workflowId, description.runId)
      .fetchHistory()
      .catch(() => undefined);
    const events = history?.events ?? [];
    const decode = historyPayloadDecoder(this.client.options.loadedDataConverter);
    const calls = await this.withWorkers(callsInFlight(description.raw, await summariesFromHistory(events, decode)));
    const { steps, approvals } = await this.chainTranscript(workflowId, events, decode).catch(() => ({
      steps: [] as StepUsage[],
      approvals: [] as ApprovalRecord[],
    }));
    return {
      ...(calls.length && { callsInFlight: calls }),
      ...(steps.length && { stepUsage: steps }),
      ...(approvals.length && { approvals }),
    };
  }

  /** How a closed run ended, from its close event in history: no worker needed. */
  private async ending(workflowId: string): Promise<Partial<RunReport>> {
    return this.call(async () => {
      try {
        const result = await this.handle(workflowId).result();
        const { steps, usage } = result;
        return { status: result.status, result, step: steps, usage, tokens: usage.totalTokens, costUsd: usage.costUsd };
      } catch (error) {
        if (error instanceof WorkflowFailedError) return { failure: runFailure(error, workflowId).failure };
        throw error;
      }
    }, workflowId);
  }

  /**
   * The run's transcript and per-step usage, rebuilt from its history: no worker needed, and an
   * encrypted run decodes with this client's keys. A chain that continued as new is read in its latest run.
   */
  async transcript(workflowId: string): Promise<RunTranscript> {
    const handle = this.handle(workflowId);
    const [description, history] = await this.call(
      () => Promise.all([handle.describe(), handle.fetchHistory()]),
      workflowId,
    );
    const decode = historyPayloadDecoder(this.client.options.loadedDataConverter);
    const attributes = description.typedSearchAttributes;
    return {
      workflowId,
      runId: description.runId,
      agent: attributes.get(searchAttributes.agentName),
      status: reportedStatus(attributes.get(searchAttributes.agentStatus), description.status.name),
      ...(await this.chainTranscript(workflowId, history.events ?? [], decode)),
    };
  }

  /**
   * The transcript of a run's chain from the latest run's history `events`: that run holds the whole
   * transcript (carried over), and the steps are every run's, the runs it continued read back in turn.
   */
  private async chainTranscript(
    workflowId: string,
    events: temporal.api.history.v1.IHistoryEvent[],
    decode: ReturnType<typeof historyPayloadDecoder>,
  ): Promise<Awaited<ReturnType<typeof transcriptFromHistory>>> {
    const { callsByStep, ...latest } = await this.call(() => recordsFromHistory(events, decode), workflowId);
    const earlier = await this.earlierRecords(workflowId, events[0], decode);
    const steps = [...earlier.flatMap((run) => run.steps), ...latest.steps];
    // A decision may name a call of a step an earlier run of the chain made.
    const calls = new Map([...earlier.flatMap((run) => [...run.callsByStep]), ...callsByStep]);
    const approvals = withToolCalls([...earlier.flatMap((run) => run.approvals), ...latest.approvals], calls);
    return { ...latest, steps, usage: totalUsage(steps), approvals };
  }

  /** The records of the runs a run continued (its start event names the one before), oldest first. */
  private async earlierRecords(
    workflowId: string,
    started: temporal.api.history.v1.IHistoryEvent | undefined,
    decode: ReturnType<typeof historyPayloadDecoder>,
  ): Promise<RunRecords[]> {
    const runs: RunRecords[] = [];
    let previous = started?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    while (previous) {
      const runId = previous;
      const { events } = await this.call(
        () => this.client.workflow.getHandle(workflowId, runId).fetchHistory(),
        workflowId,
      );
      runs.unshift(await recordsFromHistory(events ?? [], decode));
      previous = events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
    }
    return runs;
  }

  /**
   * Starts a run and returns its id (the handle) at once. The input is checked here with the schema
   * the run uses, so a bad one fails in one line before anything reaches Temporal (an oversize
   * `userId` would otherwise be refused by the server as a search attribute, with no reason given).
   */
  async start(input: AgentRunInput, options: { workflowId?: string } = {}): Promise<string> {
    checkRunInput(input);
    if (options.workflowId !== undefined) checkRunId(options.workflowId);
    const workflowId = options.workflowId ?? `${input.agent}-${randomUUID()}`;
    // The run would refuse it, but only once started: say so before anything is sent.
    if (isMemoryWorkflowId(workflowId)) {
      throw new AgentClientError(
        `invalid run id ${JSON.stringify(workflowId)}: ${MEMORY_IDS_RESERVED}`,
        ClientErrorKind.invalidInput,
        ErrorType.InvalidAgentInput,
      );
    }
    const handle = await this.call(() =>
      this.client.workflow
        .start<typeof agentRun>(WorkflowType.agentRun, {
          taskQueue: this.config.TASK_QUEUE,
          workflowId,
          args: [input],
          staticSummary: staticSummary(input),
          staticDetails: staticDetails(input),
          typedSearchAttributes: [
            { key: searchAttributes.agentName, value: input.agent },
            { key: searchAttributes.agentStatus, value: 'starting' },
            ...(input.userId ? [{ key: searchAttributes.agentUser, value: input.userId }] : []),
          ],
        })
        .catch((error: unknown) => {
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          // The id is taken by a run that is still open: name it, and how to talk to it instead.
          const run = shellWord(workflowId);
          throw new AgentClientError(
            `run ${workflowId} is already running: ${programName()} send ${run} "..." talks to it (a session), ` +
              `${programName()} status ${run} shows it`,
            ClientErrorKind.alreadyRunning,
          );
        }),
    );
    return handle.workflowId;
  }

  /**
   * Sends a message to a session and waits for the reply to it (the `chat` update); `options.onWait`
   * hears, while it waits, that no worker polls the run's task queue or that the run awaits approval.
   */
  async chat(workflowId: string, text: string, options: WaitOptions = {}): Promise<string> {
    return this.whileWaiting(
      workflowId,
      this.call(() => this.handle(workflowId).executeUpdate(chatUpdate, { args: [{ text }] }), workflowId),
      options,
    );
  }

  /** Queues a message to a session without waiting for its reply (the `enqueue` update: validated, returns once queued). */
  async message(workflowId: string, text: string): Promise<string> {
    return this.call(() => this.handle(workflowId).executeUpdate(enqueueUpdate, { args: [{ text }] }), workflowId);
  }

  async end(workflowId: string): Promise<void> {
    await this.call(() => this.handle(workflowId).signal(endSignal), workflowId);
  }

  /**
   * Approves or denies a tool call awaiting approval; returns what the run did with the decision. An
   * approval may carry edited arguments (`args`, the whole object: they replace the model's), which
   * the run checks against the tool's schema first: rejected ones fail here, and the call waits on.
   * `decidedBy` (who) and `via` (where: `client` unless said) go into the run's audit trail.
   */
  async decide(workflowId: string, decision: ApprovalDecision): Promise<string> {
    const { note, args, decidedBy, via = ApprovalSurface.client, ...rest } = decision;
    const sent = {
      ...rest,
      ...(note && { note }),
      ...(args !== undefined && { args }),
      ...(decidedBy && { decidedBy }),
      via,
    };
    // Checked here with the run's own schema: a bad decision fails in one line before anything is sent.
    const checked = approvalDecisionSchema.safeParse(sent);
    if (!checked.success) {
      throw new AgentClientError(`invalid decision: ${describeIssues(checked.error)}`, ClientErrorKind.invalidInput);
    }
    return this.call(() => this.handle(workflowId).executeUpdate(approvalUpdate, { args: [sent] }), workflowId);
  }

  async state(workflowId: string): Promise<AgentRunState> {
    return this.call(() => this.handle(workflowId).query(stateQuery), workflowId);
  }

  /** Whether the run has closed (completed, failed, cancelled, ...). */
  async isClosed(workflowId: string): Promise<boolean> {
    const description = await this.call(() => this.handle(workflowId).describe(), workflowId);
    return description.status.name !== 'RUNNING';
  }

  /**
   * Follows a run as it happens (`client/run-stream.ts`): the model's text as it writes it, tool calls
   * and results, approvals, status changes, and how the run ended, as typed events. It follows the
   * run's chain across continue-as-new and ends when the run does. `options.onWait` hears that no
   * worker polls the run's task queue, and the events follow once one does.
   */
  stream(workflowId: string, options: StreamOptions = {}): AsyncGenerator<RunStreamEvent> {
    const handle = this.handle(workflowId);
    const decode = historyPayloadDecoder(this.client.options.loadedDataConverter);
    const summaries = new ActivitySummaries(this.client);
    return runStream(
      workflowId,
      {
        describe: () => this.call(() => handle.describe(), workflowId),
        state: (taskQueue, closed) => this.answerOf(workflowId, taskQueue, closed),
        ending: async () => {
          const description = await this.call(() => handle.describe(), workflowId);
          const status = reportedStatus(
            description.typedSearchAttributes.get(searchAttributes.agentStatus),
            description.status.name,
          );
          const { result, failure } = await this.ending(workflowId);
          return { status, ...(result && { result }), ...(failure && { failure }) };
        },
        decode,
        activityWorkers: (taskQueue, except) => this.activityPolled(taskQueue, except),
        summaries: (runId, activityIds) => summaries.of({ workflowId, runId }, activityIds),
      },
      options,
    );
  }

  /**
   * Waits for the run to finish and returns its result; a failed run throws with its failure type.
   * `options.onWait` hears, while it waits, that no worker polls the run's task queue or that the
   * run awaits approval.
   */
  async result(workflowId: string, options: WaitOptions = {}): Promise<AgentRunResult> {
    return this.whileWaiting(
      workflowId,
      this.call(() => this.handle(workflowId).result(), workflowId),
      options,
    );
  }

  /**
   * `waiting`, while telling `options.onWait` what it waits for: within a check (1 s) that no live
   * worker polls the run's task queue (and when one does again), and each tool call that comes to
   * await approval; and, each check, `options.onLive` what the run does now (its calls in flight and
   * its state). Checks that fail (a server that does not allow them) only end the telling.
   */
  private async whileWaiting<T>(workflowId: string, waiting: Promise<T>, options: WaitOptions): Promise<T> {
    const { onWait, onLive } = options;
    if (!onWait && !onLive) return waiting;
    let done = false;
    const finished = waiting.then(
      () => undefined,
      () => undefined,
    );
    const tell = (notice: WaitNotice) => {
      if (!done) onWait?.(notice);
    };
    const summaries = new ActivitySummaries(this.client);
    const checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
    const watching = (async () => {
      const { taskQueue } = await this.handle(workflowId).describe();
      const teller = new WaitTeller(workflowId, taskQueue, tell);
      while (!done) {
        const workers = await this.taskQueueWorkers(taskQueue);
        const state = workers.workflow ? await this.queryWithin(workflowId, QUERY_TIMEOUT_MS) : undefined;
        teller.saw(workers, !workers.workflow || state !== undefined, QUERY_TIMEOUT_MS);
        if (state) teller.awaiting(state.pendingApprovals);
        if (onLive) {
          const description = await this.liveDescription(workflowId, summaries);
          if (!done) onLive(description, state);
        }
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([finished, new Promise((resolve) => (timer = setTimeout(resolve, checkEveryMs)))]);
        clearTimeout(timer);
      }
    })();
    // A failed check ends the telling, never the wait.
    watching.catch(() => undefined);
    try {
      return await waiting;
    } finally {
      done = true;
    }
  }

  /**
   * What `describe()` says the run does now: its calls in flight, named by their summaries (read once
   * each), those no worker runs with whether a worker polls their queue: what `status` reads too.
   */
  private async liveDescription(workflowId: string, summaries: ActivitySummaries): Promise<LiveDescription> {
    const { raw, runId, taskQueue } = await this.handle(workflowId).describe();
    const activityIds = (raw.pendingActivities ?? []).map((pending) => pending.activityId ?? '');
    const named = activityIds.length
      ? await summaries.of({ workflowId, runId }, activityIds).catch(() => new Map<string, string>())
      : new Map<string, string>();
    return { workflowId, taskQueue, calls: await this.withWorkers(callsInFlight(raw, named)) };
  }

  /** `calls`, those no worker runs marked with whether a live worker polls their task queue. */
  private withWorkers(calls: CallInFlight[]): Promise<CallInFlight[]> {
    return withQueueWorkers(calls, (taskQueue, except) => this.activityPolled(taskQueue, except));
  }

  /**
   * What memory-enabled agents remember about `userId`, oldest first (the `facts` query of its memory
   * workflow, `memory:<userId>`); none for a user nothing was remembered about.
   */
  async memory(userId: string): Promise<MemoryFact[]> {
    const handle = await this.memoryHandle(userId);
    return handle ? this.call(() => handle.query(factsQuery), handle.workflowId) : [];
  }

  /** Forgets a fact remembered about `userId` (case and surrounding spaces ignored); whether it was there. */
  async forget(userId: string, fact: string): Promise<boolean> {
    const checked = memoryFactInputSchema.safeParse({ fact });
    if (!checked.success) {
      throw new AgentClientError(`invalid ${describeIssues(checked.error)}`, ClientErrorKind.invalidInput);
    }
    const handle = await this.memoryHandle(userId);
    if (!handle) return false;
    return this.call(() => handle.executeUpdate(forgetUpdate, { args: [{ fact }] }), handle.workflowId);
  }

  /**
   * The handle of `userId`'s memory workflow, or undefined if there is none. It answers only through a
   * worker, so with none polling its task queue this fails at once, saying so, instead of waiting.
   */
  private async memoryHandle(userId: string): Promise<WorkflowHandle | undefined> {
    const handle = this.client.workflow.getHandle(memoryWorkflowId(userId));
    let taskQueue: string;
    try {
      ({ taskQueue } = await handle.describe());
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      return this.call(() => Promise.reject(error), handle.workflowId);
    }
    if (!(await this.taskQueueWorkers(taskQueue)).workflow) {
      throw new AgentClientError(
        `no worker is polling task queue "${taskQueue}" to read the memory of user ${quote(userId)} (${startWorkerHint(taskQueue)})`,
        ClientErrorKind.unreachable,
      );
    }
    return handle;
  }

  /**
   * Asks a run to stop. Temporal takes a cancel request for a run that has closed and does nothing
   * with it: that fails here instead, saying how the run ended.
   */
  async cancel(workflowId: string): Promise<void> {
    const { status } = await this.call(() => this.handle(workflowId).describe(), workflowId);
    if (status.name !== 'RUNNING') {
      throw new AgentClientError(`run ${workflowId} has already ${closedWording(status.name)}`, ClientErrorKind.closed);
    }
    await this.call(() => this.handle(workflowId).cancel(), workflowId);
  }

  /**
   * Agent runs matching `filter`, newest first (by start time), at most `filter.limit` (50). A server
   * whose visibility store cannot sort (SQL, the dev server's) lists open runs first, then closed ones
   * by close time: those rows are sorted here.
   */
  async list(filter: ListFilter = {}): Promise<RunSummary[]> {
    if (this.listSorts !== false) {
      try {
        const runs = await this.listBy(`${listQuery(filter)} ORDER BY StartTime DESC`, filter.limit);
        this.listSorts = true;
        return runs;
      } catch (error) {
        // The SDK's error says "Failed to list workflows"; the server's reason is in its cause.
        const cause = (error as { cause?: { details?: unknown; message?: unknown } }).cause;
        const reason = `${(error as Error).message} ${String(cause?.details ?? cause?.message ?? '')}`;
        if (this.listSorts || !/ORDER BY/i.test(reason)) throw error;
        this.listSorts = false;
      }
    }
    const runs = await this.listBy(listQuery(filter), filter.limit);
    return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  }

  /** Whether the server sorts a list (`ORDER BY`): learned on the first `list`. */
  private listSorts: boolean | undefined;

  private async listBy(query: string, limit = 50): Promise<RunSummary[]> {
    const runs: RunSummary[] = [];
    const executions = this.client.workflow.list({ query, pageSize: 100 });
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
        if (runs.length >= limit) break;
      }
    });
    return runs;
  }

  /** How the run with this id closed (`completed`, `been cancelled`, ...), if it exists and has. */
  private async closedStatus(workflowId: string): Promise<string | undefined> {
    try {
      const { status } = await this.handle(workflowId).describe();
      return status.name === 'RUNNING' ? undefined : closedWording(status.name);
    } catch {
      return undefined;
    }
  }

  /**
   * Who polls the run's task queue, and the run's own state if a worker answers for it. A query to a
   * run no worker takes would wait (half a minute) for one, so it is not sent when none polls. A
   * closed run answers only through a worker that replays it: its state is a bonus, and failing to
   * get it no failure.
   */
  private async answerOf(
    workflowId: string,
    taskQueue: string,
    closed: boolean,
  ): Promise<{ workers?: TaskQueueWorkers; state?: AgentRunState }> {
    const workers = await this.taskQueueWorkers(taskQueue).catch(() => undefined);
    if (workers?.workflow === false) return { workers };
    const state = await this.queryWithin(workflowId, QUERY_TIMEOUT_MS).catch((error: unknown) => {
      if (closed) return undefined;
      throw error;
    });
    return { workers, state };
  }

  /** The run's state, or undefined if no worker answered within `timeoutMs`; other failures throw. */
  private async queryWithin(workflowId: string, timeoutMs: number): Promise<AgentRunState | undefined> {
    try {
      return await this.connection.withDeadline(Date.now() + timeoutMs, () =>
        this.handle(workflowId).query(stateQuery),
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
      return this.call(() => Promise.reject(error), workflowId);
    }
  }

  private handle(workflowId: string): WorkflowHandle<typeof agentRun> {
    // Every operation on a run by id comes through here: a bad id fails in one line, before anything is sent.
    checkRunId(workflowId);
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
      if (error instanceof NamespaceNotFoundError) {
        throw new AgentClientError(
          `no namespace ${quote(this.client.options.namespace)} on Temporal at ${this.config.TEMPORAL_ADDRESS} ` +
            '(check --namespace, --profile or TEMPORAL_NAMESPACE)',
          ClientErrorKind.notFound,
        );
      }
      if (error instanceof WorkflowUpdateFailedError) {
        throw new AgentClientError(`rejected: ${describeFailure(error.cause).message}`, ClientErrorKind.rejected);
      }
      if (error instanceof WorkflowFailedError) {
        const { kind, failure } = runFailure(error, workflowId);
        throw new AgentClientError(failure.error, kind, failure.type);
      }
      if (grpcCode(error) === GrpcCode.unavailable) throw AgentClient.connectionError(this.config, error);
      throw error;
    }
  }
}

/**
 * Talking to agent runs from code: start one and get its handle at once, then send messages, decide
 * approvals, read its state and fetch its result later. The CLI (`cli.ts`) is a thin layer on this.
 * The class is the API; the machinery behind it is in modules of its own: the connection
 * (`server-connection.ts`), the error wrapper every call goes through (`temporal-calls.ts`), who polls
 * a task queue (`task-queue-pollers.ts`), a run's report and transcript (`run-report.ts`,
 * `chain-transcript.ts`), waiting (`wait-watch.ts`), the list (`run-listing.ts`) and memory
 * (`memory-handle.ts`).
 */
import { Client, type Connection, type WorkflowHandle } from '@temporalio/client';
import { payloadCodecs } from '../codec';
import { historyPayloadDecoder } from '../src/history-payloads';
import { loadTemporalConfig, type TemporalConfig } from '../src/config';
import { CONNECT_TIMEOUT_MS } from '../src/connection-errors';
import {
  approvalUpdate,
  chatUpdate,
  endSignal,
  enqueueUpdate,
  factsQuery,
  forgetUpdate,
  stateQuery,
  steerUpdate,
} from '../src/contract';
import type { AgentDefinition, OutputOf, OutputSchema } from '../src/agent';
import { AgentClientError, ClientErrorKind } from '../src/errors';
import {
  approvalDecisionSchema,
  ApprovalSurface,
  userMessageSchema,
  type AgentRunInput,
  type UserMessage,
} from '../src/input';
import { memoryFactInputSchema } from '../src/memory';
import type { AgentRunResult, AgentRunState, ApprovalDecision, RememberedFact, RunOutput } from '../src/types';
import { describeIssues } from '../src/validation';
import type { agentRun } from '../workflows';
import { ActivitySummaries } from './activity-summaries';
import { runTranscript } from './chain-transcript';
import { clientInterceptors } from './client-tracing';
import { toldFromHistory, type RunTranscript } from './history-transcript';
import { userMemories } from './memory-handle';
import { closedWording } from './run-failure';
import { RunListing } from './run-listing';
import { runReport, streamEnding } from './run-report';
import { byCall, subAgentTree, type RunTreeNode } from './run-tree';
import { treeStream, type TreeStreamEvent } from './tree-stream';
import { startRun } from './run-start';
import { answerOf } from './run-state-query';
import type { ListFilter } from './run-status';
import { runStream, type RunStreamEvent, type StreamOptions } from './run-stream';
import type { ConnectOptions, RunReport, RunSummary, TypedRunResult } from './run-types';
import { openConnection } from './server-connection';
import { activityPolled, taskQueueWorkers } from './task-queue-pollers';
import { callWrapper, runHandle, type Call } from './temporal-calls';
import type { TaskQueueWorkers, WaitOptions } from './waiting';
import { whileWaiting } from './wait-watch';

export type { ConnectOptions, RunFailure, RunReport, RunSummary, TypedRunResult } from './run-types';
export type { TaskQueueWorkers, WaitNotice, WaitOptions } from './waiting';
export type { RunStreamEvent, StreamOptions } from './run-stream';
export type { RunTreeNode } from './run-tree';
export type { TreeStreamEvent } from './tree-stream';
export { connectionCause } from '../src/connection-errors';
export { listQuery, reportedStatus, type ListFilter } from './run-status';
export { checkRunInput } from './run-start';

/**
 * `text` as the message updates carry it, checked first with the run's own schema, so a bad one fails in
 * one line before anything is sent. The run would refuse it too, but not one of more than 2 MB:
 * Temporal's refusal carries the request back, past its payload limit, so the run's workflow task
 * fails instead, and the updates sent beside it with it.
 */
function checkedMessage(text: string): UserMessage {
  const checked = userMessageSchema.safeParse({ text });
  if (!checked.success) {
    throw new AgentClientError(`invalid message: ${describeIssues(checked.error)}`, ClientErrorKind.invalidInput);
  }
  return { text };
}

export class AgentClient {
  /** Runs a Temporal call, turning its errors into one-line AgentClientErrors. */
  private readonly call: Call;
  private readonly listing: RunListing;

  private constructor(
    readonly client: Client,
    private readonly connection: Connection,
    readonly config: TemporalConfig,
  ) {
    this.call = callWrapper(client, config);
    this.listing = new RunListing(client, this.call);
  }

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
    const connection = await openConnection(config, options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
    const interceptors = await clientInterceptors(config);
    const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE, dataConverter, interceptors });
    return new AgentClient(client, connection, config);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /**
   * Whether live workers poll `taskQueue` (default: the configured one): a poller counts when the
   * server saw it within about a minute. Needs no worker, so a caller can say why a run waits.
   */
  async taskQueueWorkers(taskQueue: string = this.config.TASK_QUEUE): Promise<TaskQueueWorkers> {
    return taskQueueWorkers(this.client, this.call, taskQueue);
  }

  /**
   * A run's status without waiting for anything: its own state while it is open and a worker can
   * answer; what Temporal holds (search attributes, and how a closed run ended) otherwise. It lists
   * the run's calls in flight and its per-step usage where history can be read.
   */
  async report(workflowId: string): Promise<RunReport> {
    return runReport(this.client, this.call, workflowId);
  }

  /**
   * The runs of the run's sub-agents, as a tree (each with its own sub-agents): agent, status, steps,
   * tokens and cost of each, from Temporal's visibility (which may lag a run that just started).
   */
  async subAgents(workflowId: string): Promise<RunTreeNode[]> {
    return subAgentTree(this.listing, workflowId);
  }

  /**
   * The run's transcript and per-step usage, rebuilt from its history: no worker needed, and an
   * encrypted run decodes with this client's keys. A chain that continued as new is read in its latest run.
   * A run with sub-agents carries their transcripts too (`subAgents`), in the order they were called.
   */
  async transcript(workflowId: string): Promise<RunTranscript> {
    const transcript = await runTranscript(this.client, this.call, workflowId);
    // Sub-agents' runs from visibility (which may lag a run that just started them), nested in call order.
    const children = (await this.listing.children(workflowId)).sort(byCall);
    if (!children.length) return transcript;
    return { ...transcript, subAgents: await Promise.all(children.map((child) => this.transcript(child.workflowId))) };
  }

  /**
   * Starts a run and returns its id (the handle) at once. The input is checked here with the schema
   * the run uses, so a bad one fails in one line before anything reaches Temporal (an oversize
   * `userId` would otherwise be refused by the server as a search attribute, with no reason given).
   */
  async start(input: AgentRunInput, options: { workflowId?: string } = {}): Promise<string> {
    return startRun(this.client, this.call, this.config.TASK_QUEUE, input, options.workflowId);
  }

  /**
   * Sends a message to a session and waits for the reply to it (the `chat` update): its text, or for
   * an agent with an output schema the object; `options.onWait` hears, while it waits, that no worker
   * polls the run's task queue or that the run awaits approval.
   */
  async chat(workflowId: string, text: string, options: WaitOptions = {}): Promise<RunOutput> {
    const replied = this.call(
      () => this.handle(workflowId).executeUpdate(chatUpdate, { args: [checkedMessage(text)] }),
      workflowId,
    );
    return whileWaiting(this.client, this.call, workflowId, replied, options);
  }

  /** Queues a message to a session without waiting for its reply (the `enqueue` update: validated, returns once queued). */
  async message(workflowId: string, text: string): Promise<string> {
    return this.call(
      () => this.handle(workflowId).executeUpdate(enqueueUpdate, { args: [checkedMessage(text)] }),
      workflowId,
    );
  }

  /**
   * Steers a run (task or session) while it works (the `steer` update): the message joins the turn in
   * progress at its next step, after the calls in flight finish, so the model's next request reads
   * it; between turns it is queued. Returns once the run has accepted it, saying which it was.
   */
  async steer(workflowId: string, text: string): Promise<string> {
    return this.call(
      () => this.handle(workflowId).executeUpdate(steerUpdate, { args: [checkedMessage(text)] }),
      workflowId,
    );
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
    return this.runEvents(workflowId, options);
  }

  /**
   * `stream` of the run and of its sub-agents' runs, merged: each sub-agent's event labelled with
   * `agentPath` (the sub-agents from the run down to it); the run's ending comes last. With `from:
   * 'now'`, the sub-agents started before (earlier turns') are left out. A sub-agent's run is found
   * by the `sub_agent` event of the run that started it, at once, whatever visibility lists yet.
   */
  streamTree(workflowId: string, options: StreamOptions = {}): AsyncGenerator<TreeStreamEvent> {
    return treeStream(workflowId, (id) => this.runEvents(id, id === workflowId ? options : { signal: options.signal }));
  }

  private runEvents(workflowId: string, options: StreamOptions): AsyncGenerator<RunStreamEvent> {
    const { client, call } = this;
    const handle = this.handle(workflowId);
    const summaries = new ActivitySummaries(client);
    const decode = historyPayloadDecoder(client.options.loadedDataConverter);
    return runStream(
      workflowId,
      {
        describe: () => call(() => handle.describe(), workflowId),
        state: (taskQueue, closed) => answerOf(client, call, workflowId, taskQueue, closed),
        recorded: async () => {
          const { events } = await call(() => handle.fetchHistory(), workflowId);
          return toldFromHistory(events ?? [], decode);
        },
        ending: () => streamEnding(client, call, workflowId),
        decode,
        activityWorkers: (taskQueue, except) => activityPolled(client, call, taskQueue, except),
        summaries: (runId, activityIds) => summaries.of({ workflowId, runId }, activityIds),
      },
      options,
    );
  }

  /**
   * Waits for the run to finish and returns its result; a failed run throws with its failure type.
   * `options.onWait` hears, while it waits, that no worker polls the run's task queue or that the
   * run awaits approval. With `options.agent`, the run's agent definition, an output in its schema
   * is parsed with it (so its transforms and defaults apply) and typed from it.
   */
  async result(workflowId: string, options?: WaitOptions): Promise<AgentRunResult>;
  async result<Output extends OutputSchema>(
    workflowId: string,
    options: WaitOptions & { agent: AgentDefinition<Output> },
  ): Promise<TypedRunResult<OutputOf<AgentDefinition<Output>>>>;
  async result(
    workflowId: string,
    options: WaitOptions & { agent?: AgentDefinition } = {},
  ): Promise<AgentRunResult | TypedRunResult<unknown>> {
    const finished = this.call(() => this.handle(workflowId).result(), workflowId);
    const result = await whileWaiting(this.client, this.call, workflowId, finished, options);
    const schema = options.agent?.output;
    if (!schema || typeof result.output === 'string') return result;
    const parsed = schema.safeParse(result.output);
    if (!parsed.success) {
      throw new AgentClientError(
        `run ${workflowId}'s output does not fit agent ${options.agent!.name}'s output schema: ${describeIssues(parsed.error)}`,
        ClientErrorKind.invalidInput,
      );
    }
    return { ...result, output: parsed.data };
  }

  /**
   * What memory-enabled agents remember about `userId`, oldest first: with `agent`, in that agent's own
   * memory; without, in the shared memory and every agent's own, each fact with its `agent` (none for
   * the shared memory). None for a user nothing was remembered about.
   */
  async memory(userId: string, options: { agent?: string } = {}): Promise<RememberedFact[]> {
    const facts: RememberedFact[] = [];
    for (const { memory, handle } of await userMemories(this.client, this.call, userId, options.agent)) {
      const held = await this.call(() => handle.query(factsQuery), handle.workflowId);
      facts.push(...held.map((fact) => ({ ...fact, ...(memory.agent !== undefined && { agent: memory.agent }) })));
    }
    return facts.sort((a, b) => a.rememberedAt.localeCompare(b.rememberedAt));
  }

  /**
   * Forgets a fact remembered about `userId` (case and surrounding spaces ignored): with `agent`, in
   * that agent's own memory; without, in every memory of the user's. Whether any memory held it.
   */
  async forget(userId: string, fact: string, options: { agent?: string } = {}): Promise<boolean> {
    const checked = memoryFactInputSchema.safeParse({ fact });
    if (!checked.success) {
      throw new AgentClientError(`invalid ${describeIssues(checked.error)}`, ClientErrorKind.invalidInput);
    }
    let forgotten = false;
    for (const { handle } of await userMemories(this.client, this.call, userId, options.agent)) {
      const held = await this.call(() => handle.executeUpdate(forgetUpdate, { args: [{ fact }] }), handle.workflowId);
      forgotten ||= held;
    }
    return forgotten;
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
    return this.listing.list(filter);
  }

  private handle(workflowId: string): WorkflowHandle<typeof agentRun> {
    return runHandle(this.client, workflowId);
  }
}

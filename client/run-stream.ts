/**
 * A run as it happens, as typed events: the model's text as it writes it, each tool call and result,
 * approvals it waits for, status changes, and how it ended. The text comes from the model call's
 * heartbeat details (`src/live-answer.ts`), read with `describe` (no history event per token); the
 * rest from the run's `state` query, asked again only when the run's history has grown. The stream
 * follows a run's chain across continue-as-new (the workflow id names its latest run) and ends when
 * the run does.
 */
import { createHash } from 'node:crypto';
import type { WorkflowExecutionDescription } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { liveAnswerSchema, type LiveAnswer } from '../src/live-answer';
import type {
  AgentRunResult,
  AgentRunState,
  ChatMessage,
  PendingApproval,
  RunStatus,
  SubAgentRunRef,
} from '../src/types';
import { callsInFlight, retrying, withQueueWorkers, type CallInFlight, type QueuePolled } from './calls-in-flight';
import { QUERY_TIMEOUT_MS } from './run-state-query';
import { LIVE_STATUSES } from './run-status';
import type { RunFailure } from './run-types';
import { WaitTeller, type TaskQueueWorkers, type WaitOptions } from './waiting';

/** What `AgentClient.stream` yields. */
export type RunStreamEvent =
  /** More of the text the model is writing in `step`'s attempt `attempt`: append it. */
  | { type: 'text'; step: number; attempt: number; text: string }
  /**
   * `step`'s model call failed after writing `discarded` (or fell back to another model): that text is
   * void. The attempt that replaces it streams from its start; `failure` says which it is and why the
   * last one failed (`attempt 2 of 5, last error: ...`), when the server says.
   */
  | { type: 'retry'; step: number; attempt: number; discarded: string; failure?: string }
  /** A call (a model call that wrote nothing yet, a tool) is being retried: its attempt and last error. */
  | { type: 'failing'; call: CallInFlight }
  /**
   * A call no worker has taken: told at once when no worker polls its task queue (a fleet without
   * that role's workers: `call.taskQueue`, `call.polled` false), else once it has waited `UNTAKEN_MS`
   * (5 s; all of them are busy, or the server does not say the queue).
   */
  | { type: 'untaken'; call: CallInFlight }
  /** A user message the run received. */
  | { type: 'user'; text: string }
  /**
   * A model answer's text, whole, once it is recorded (after the `text` events that streamed it, if
   * it streamed); `answer` when it calls no tool: what the run answers the user.
   */
  | { type: 'assistant'; text: string; answer: boolean }
  | { type: 'tool_call'; callId: string; tool: string; args: string }
  | { type: 'tool_result'; callId: string; content: string }
  /**
   * The run started a sub-agent's run (`workflowId`) for its tool call `toolCallId`: told before that
   * call's result. `AgentClient.streamTree` follows it.
   */
  | ({ type: 'sub_agent' } & SubAgentRunRef)
  /** A tool call now waits for a person's decision (`approve` / `deny`). */
  | { type: 'approval'; callId: string; tool: string; args: unknown }
  /** The run's status changed (or which calls await approval did). */
  | { type: 'status'; status: RunStatus; pendingApprovals: PendingApproval[] }
  /** The run ended with a result: its final answer is `result.output`. */
  | { type: 'result'; result: AgentRunResult }
  /** The run ended without a result (failed, cancelled, terminated, timed out). */
  | { type: 'failure'; status: string; failure: RunFailure };

export interface StreamOptions extends Pick<WaitOptions, 'onWait'> {
  /**
   * `start` (the default): the messages the run holds already, then what comes. `now`: only what the
   * run records after the stream first hears from it (`onReady`), and the text of calls after that.
   */
  from?: 'start' | 'now';
  /**
   * Called once the stream has first heard from the run (its state, or that no worker answers for
   * it): a caller that acts on the run (sends it a message) acts after this, so that with `from:
   * 'now'` the stream tells all that follows.
   */
  onReady?: () => void;
  /** Ends the stream (quietly) when aborted. */
  signal?: AbortSignal;
}

/** How the stream reads a run: `AgentClient` gives it its own calls. */
export interface RunSource {
  describe(): Promise<WorkflowExecutionDescription>;
  /** Who polls `taskQueue`, and the run's state if a worker answers for it. */
  state(taskQueue: string, closed: boolean): Promise<{ workers?: TaskQueueWorkers; state?: AgentRunState }>;
  /** What a closed run told, read from its history: for when no worker answers for it. */
  recorded(): Promise<Pick<AgentRunState, 'messages' | 'subAgentRuns'>>;
  /** How a closed run ended. */
  ending(): Promise<{ result?: AgentRunResult; failure?: RunFailure; status: string }>;
  /** Decodes a payload as the server holds it (through the client's codecs). */
  decode(payload: temporal.api.common.v1.IPayload): Promise<unknown>;
  /** Whether a live worker (but `except`) polls `taskQueue` for activities: what a call no worker runs waits for. */
  activityWorkers?: QueuePolled;
  /** The summaries of the run's activities (`tool lookup_order`), by activity id, to name the calls it tells. */
  summaries?(runId: string, activityIds: string[]): Promise<ReadonlyMap<string, string>>;
}

/** How often the stream looks while a model call is in flight (its text reaches the server every 250 ms). */
const LIVE_POLL_MS = 100;
/** How often it looks otherwise. */
const IDLE_POLL_MS = 250;
/** How often it asks who polls the run's task queue when nothing else made it ask. */
const WORKERS_CHECK_MS = 1_000;
/**
 * How long a model call's text waits for the state question in flight, which holds what the run
 * recorded before the call (the tool results it answers): long enough for a worker to answer, so the
 * text comes after them; not so long that a busy worker holds it back.
 */
const HOLD_TEXT_MS = 1_000;
/** A call no worker has taken for this long is told (`untaken`). */
const UNTAKEN_MS = 5_000;

/**
 * The run's calls in flight, named by their summaries (as `status` names them) once one is to be told
 * of: one that is retried, or that no worker runs. Calls that run are the model's text, told as such.
 */
async function namedCalls(description: WorkflowExecutionDescription, source: RunSource): Promise<CallInFlight[]> {
  const calls = callsInFlight(description.raw);
  const told = calls.filter((call) => !call.running || retrying(call)).map((call) => call.activityId);
  if (!told.length || !source.summaries) return calls;
  const summaries = await source.summaries(description.runId, told).catch(() => new Map<string, string>());
  return calls.map((call) => {
    const summary = summaries.get(call.activityId);
    return summary ? { ...call, summary } : call;
  });
}

/**
 * Whether workers poll the task queues of calls no worker runs, asked at most once a second per
 * queue (the stream looks ten times a second).
 */
function queueWorkers(source: RunSource): QueuePolled {
  const asked = new Map<string, { at: number; answer: Promise<boolean> }>();
  return (taskQueue, except) => {
    if (!source.activityWorkers) return Promise.reject(new Error('not known'));
    const key = `${taskQueue}\n${except ?? ''}`;
    const last = asked.get(key);
    if (last && Date.now() - last.at < WORKERS_CHECK_MS) return last.answer;
    const answer = source.activityWorkers(taskQueue, except);
    asked.set(key, { at: Date.now(), answer });
    return answer;
  };
}

/** Messages not seen before, across the runs of a chain: each run's transcript starts with what it carried. */
class TranscriptCursor {
  /** How many of each message (by fingerprint) have been seen: the same text may be sent twice. */
  private readonly seen = new Map<string, number>();

  fresh(messages: ChatMessage[]): ChatMessage[] {
    const counts = new Map<string, number>();
    const fresh: ChatMessage[] = [];
    for (const message of messages) {
      const key = createHash('sha1').update(JSON.stringify(message)).digest('base64');
      const count = (counts.get(key) ?? 0) + 1;
      counts.set(key, count);
      if (count > (this.seen.get(key) ?? 0)) {
        this.seen.set(key, count);
        fresh.push(message);
      }
    }
    return fresh;
  }
}

interface ShownText {
  /** The call's activity id and attempt: text of another attempt is another text. */
  key: string;
  activityId: string;
  step: number;
  attempt: number;
  text: string;
}

/** The model call in flight, as `describe` shows it, with its answer so far. */
interface ModelCallInFlight {
  activityId: string;
  attempt: number;
  answer?: LiveAnswer;
}

/**
 * The live text shown so far, and what to say as it changes: more text, a retry that voids what an
 * attempt wrote, or the rest of an answer once it is recorded.
 */
class LiveText {
  /** The call whose text is being shown. */
  private shown?: ShownText;
  /** Calls of earlier steps whose text was shown and whose answers are not recorded yet, oldest first. */
  private finished: ShownText[] = [];

  *read(call: ModelCallInFlight | undefined): Generator<RunStreamEvent> {
    if (!call) return;
    const key = `${call.activityId}#${call.attempt}`;
    // Details outlive their attempt: a retried call shows the failed attempt's until the new one reports.
    const answer = call.answer?.attempt === call.attempt ? call.answer : undefined;
    if (this.shown && this.shown.key !== key) {
      const { shown } = this;
      this.shown = undefined;
      // Another attempt of the same call, or another call of the same step (a fallback model), replaces
      // it; a call of a later step, or of a step not told yet, follows it, which may have finished.
      const replaced = shown.activityId === call.activityId || answer?.step === shown.step;
      if (!replaced) this.finished.push(shown);
      else if (shown.text) yield { type: 'retry', step: shown.step, attempt: call.attempt, discarded: shown.text };
    }
    if (!answer) return;
    // A call told late to be of the step of one that seemed finished: that one was replaced.
    for (const earlier of this.finished.filter((finished) => finished.step === answer.step)) {
      if (earlier.text) yield { type: 'retry', step: earlier.step, attempt: call.attempt, discarded: earlier.text };
    }
    this.finished = this.finished.filter((finished) => finished.step !== answer.step);
    this.shown ??= { key, activityId: call.activityId, step: answer.step, attempt: answer.attempt, text: '' };
    const { shown } = this;
    if (answer.text.length > shown.text.length && answer.text.startsWith(shown.text)) {
      yield { type: 'text', step: shown.step, attempt: shown.attempt, text: answer.text.slice(shown.text.length) };
      shown.text = answer.text;
    }
  }

  /**
   * The recorded answer `content` completes the text shown of its call (the last of it may not have
   * reached the server before the call ended): the rest, as more text; undefined if no text shown
   * was the start of it.
   */
  complete(content: string | null): RunStreamEvent[] | undefined {
    const candidates = [...this.finished, ...(this.shown ? [this.shown] : [])];
    const index = candidates.findIndex((shown) => shown.text && content?.startsWith(shown.text));
    if (index < 0 || !content) return undefined;
    const done = candidates.slice(0, index + 1);
    this.finished = this.finished.filter((shown) => !done.includes(shown));
    if (this.shown && done.includes(this.shown)) this.shown = undefined;
    const { step, attempt, text } = candidates[index];
    const rest = content.slice(text.length);
    return rest ? [{ type: 'text', step, attempt, text: rest }] : [];
  }
}

/** The events one recorded message stands for. */
function* messageEvents(message: ChatMessage): Generator<RunStreamEvent> {
  switch (message.role) {
    case 'system':
      return;
    case 'user':
      yield { type: 'user', text: message.content };
      return;
    case 'assistant': {
      const calls = message.tool_calls ?? [];
      if (message.content) yield { type: 'assistant', text: message.content, answer: calls.length === 0 };
      for (const call of calls) {
        yield { type: 'tool_call', callId: call.id, tool: call.function.name, args: call.function.arguments };
      }
      return;
    }
    case 'tool':
      yield { type: 'tool_result', callId: message.tool_call_id, content: message.content };
  }
}

/** The run's model call in flight, with its answer so far if its heartbeat holds one (checked: a worker sent it). */
async function modelCallInFlight(
  description: WorkflowExecutionDescription,
  decode: RunSource['decode'],
): Promise<ModelCallInFlight | undefined> {
  const pending = (description.raw.pendingActivities ?? []).find(
    (activity) => activity.activityType?.name === 'callModel',
  );
  if (!pending) return undefined;
  const call = { activityId: pending.activityId ?? '', attempt: pending.attempt ?? 1 };
  const [details] = pending.heartbeatDetails?.payloads ?? [];
  if (!details) return call;
  const parsed = liveAnswerSchema.safeParse(await decode(details).catch(() => undefined));
  return parsed.success ? { ...call, answer: parsed.data } : call;
}

function abortable(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** What one `state` question got: who polls, and the run's state if a worker answered. */
type Answer = Awaited<ReturnType<RunSource['state']>>;

/**
 * The events of the run `workflowId` reads through `source`, until it ends (or `options.signal` aborts).
 * Each look describes the run and shows its model call's text; the `state` query, which a worker
 * answers (slowly when it is busy), is asked beside the looks whenever history grows. An answer is
 * taken at the next look, which then describes the run again: the text it shows is of a look newer
 * than the answer, so a call's text never follows its recorded answer, and the text of a new call
 * waits (up to `HOLD_TEXT_MS`) for the answer holding what came before it.
 */
export async function* runStream(
  workflowId: string,
  source: RunSource,
  options: StreamOptions = {},
): AsyncGenerator<RunStreamEvent> {
  const { signal, onWait } = options;
  let ready = () => {
    ready = () => undefined;
    options.onReady?.();
  };
  const transcript = new TranscriptCursor();
  const live = new LiveText();
  const approvals = new Set<string>();
  /** The sub-agent runs told (`sub_agent`), by workflow id. */
  const subAgents = new Set<string>();
  /**
   * Whether a state was taken yet. The first holds what came before the stream, which the text shown
   * so far may look like the start of (the same answer, given twice) without being its answer.
   */
  let first = true;
  let teller: WaitTeller | undefined;
  let lastStatus: string | undefined;
  /** The history position the last question was asked at, and when. */
  let askedAt: string | undefined;
  let askedTime = 0;
  let asking: Promise<Answer> | undefined;
  /** The answer that came, and the history position it was asked at, until taken. */
  let answered: { answer: Answer; at: string } | undefined;
  /** The history position of the last answer taken. */
  let takenAt: string | undefined;
  /** Attempts of calls already said to be retried, and to wait for a worker (`activityId#attempt`). */
  const told = new Set<string>();
  const untaken = new Set<string>();
  const polled = queueWorkers(source);

  function ask(taskQueue: string, closed: boolean, historyAt: string): Promise<Answer> {
    askedAt = historyAt;
    askedTime = Date.now();
    // A query may fail in passing (the run continuing as new just then): a later look asks again.
    const question = source.state(taskQueue, closed).catch((): Answer => ({}));
    asking = question.then((answer) => {
      answered = { answer, at: historyAt };
      return answer;
    });
    return question;
  }

  /** The messages and sub-agent runs not told yet (all but the first look's, `from: 'now'`). */
  function* tell(messages: ChatMessage[], subAgentRuns: SubAgentRunRef[]): Generator<RunStreamEvent> {
    const skipped = first && options.from === 'now';
    const started = subAgentRuns.filter((run) => !subAgents.has(run.workflowId));
    for (const run of started) subAgents.add(run.workflowId);
    for (const message of transcript.fresh(messages)) {
      if (skipped) continue;
      if (!first && message.role === 'assistant') yield* live.complete(message.content) ?? [];
      // A sub-agent run that ended since the last look is told before its answer to the run.
      const run = message.role === 'tool' ? started.find((ref) => ref.toolCallId === message.tool_call_id) : undefined;
      if (run) {
        started.splice(started.indexOf(run), 1);
        yield { type: 'sub_agent', ...run };
      }
      yield* messageEvents(message);
    }
    if (!skipped) for (const run of started) yield { type: 'sub_agent', ...run };
    first = false;
  }

  function* take(answer: Answer, taskQueue: string, closed: boolean): Generator<RunStreamEvent> {
    const { workers, state } = answer;
    if (!closed && onWait) {
      teller ??= new WaitTeller(workflowId, taskQueue, onWait);
      teller.saw(workers, workers?.workflow === false || state !== undefined, QUERY_TIMEOUT_MS);
    }
    ready();
    if (!state) return;
    yield* tell(state.messages, state.subAgentRuns ?? []);
    for (const approval of state.pendingApprovals) {
      if (approvals.has(approval.callId)) continue;
      approvals.add(approval.callId);
      yield { type: 'approval', ...approval };
    }
    const pending = state.pendingApprovals.map((approval) => approval.callId).join();
    if (!closed && LIVE_STATUSES.includes(state.status) && `${state.status}:${pending}` !== lastStatus) {
      lastStatus = `${state.status}:${pending}`;
      yield { type: 'status', status: state.status, pendingApprovals: state.pendingApprovals };
    }
  }

  while (!signal?.aborted) {
    let description = await source.describe();
    const { taskQueue } = description;
    const historyAt = `${description.runId}:${String(description.raw.workflowExecutionInfo?.historyLength)}`;
    if (description.status.name !== 'RUNNING') {
      // What the run recorded last, asked once it had closed (and what an earlier question got, first).
      const earlier = await asking;
      if (earlier) yield* take(earlier, taskQueue, true);
      const last = await ask(taskQueue, true, historyAt);
      yield* take(last, taskQueue, true);
      // No worker answered (none polls, or none in time): the run's history tells what it recorded.
      const recorded = !last.state && (await source.recorded());
      if (recorded) yield* tell(recorded.messages, recorded.subAgentRuns ?? []);
      const { result, failure, status } = await source.ending();
      if (result) yield { type: 'result', result };
      else if (failure) yield { type: 'failure', status, failure };
      return;
    }
    if (!asking && (historyAt !== askedAt || Date.now() - askedTime >= WORKERS_CHECK_MS)) {
      void ask(taskQueue, false, historyAt);
    }
    if (answered) {
      const { answer, at } = answered;
      answered = undefined;
      asking = undefined;
      takenAt = at;
      yield* take(answer, taskQueue, false);
      // Looked at again: a look newer than the answer shows no call the answer holds as recorded.
      description = await source.describe();
    }
    // A question asked since history grew holds what came before the call in flight: its text waits
    // for the answer (a while), so that it follows the tool results it answers.
    const held = asking !== undefined && askedAt !== takenAt && Date.now() - askedTime < HOLD_TEXT_MS;
    const call = await modelCallInFlight(description, source.decode);
    const calls = await withQueueWorkers(await namedCalls(description, source), polled);
    for (const event of held ? [] : live.read(call)) {
      if (event.type !== 'retry' || !call) {
        yield event;
        continue;
      }
      told.add(`${call.activityId}#${call.attempt}`);
      const failure = retrying(calls.find((inFlight) => inFlight.activityId === call.activityId)!);
      yield failure ? { ...event, failure } : event;
    }
    for (const inFlight of calls) {
      const attempt = `${inFlight.activityId}#${inFlight.attempt}`;
      if (retrying(inFlight) && !told.has(attempt)) {
        told.add(attempt);
        yield { type: 'failing', call: inFlight };
      }
      // No worker polls its queue: said at once; else it may only be busy, said after a while.
      const waited = inFlight.polled === false || Date.now() - inFlight.sinceMs >= UNTAKEN_MS;
      if (!inFlight.running && waited && !untaken.has(attempt)) {
        untaken.add(attempt);
        yield { type: 'untaken', call: inFlight };
      }
    }
    // An answer that comes wakes the stream: what it holds is told at once.
    await Promise.race([abortable(call ? LIVE_POLL_MS : IDLE_POLL_MS, signal), ...(asking ? [asking] : [])]);
  }
}

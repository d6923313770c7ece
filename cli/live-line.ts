/**
 * What a run is doing now, as one line a waiting command keeps on stderr: the model call or tool in
 * flight and for how long, a call no worker has taken with its task queue and the worker to start, a
 * call being retried with its attempt and last error (a worker that stopped mid-call said as such),
 * or the approval it waits for with the command that gives it. Read from `describe()` (the pending
 * activities, their queues' pollers) and the `state` query, so nothing is added to the run's history.
 * `status` and the run's stream say the calls in flight with the same words.
 */
import { pacingText, resumesIn } from '../src/pacing-notice';
import { terminalSafe } from '../src/terminal-text';
import type { AgentRunState } from '../src/types';
import { retrying, type CallInFlight, type LiveDescription } from '../client/calls-in-flight';
import { programName, roleWorkerCommand, runsWorkerCommand } from '../client/shell-hints';
import { formatSteps, formatWaitNotice } from './format';
import type { StepUsage } from '../client/history-transcript';

/**
 * A live line without its clock: `text`, and when what it describes began (for `(2.1 s)`), or when a
 * call that waits for a rate limit resumes (for `, resumes in 4.2 s`), if it says.
 */
export interface LiveLineParts {
  text: string;
  sinceMs?: number;
  resumesAtMs?: number;
}

/** A running call the run asked to stop (it is being cancelled): its worker runs it until it hears so. */
const CANCEL_REQUESTED = 'cancel requested';

/** A running call's state: `running`, or `running, cancel requested` while it is being cancelled. */
const runningState = (call: CallInFlight) => (call.cancelRequested ? `running, ${CANCEL_REQUESTED}` : 'running');

/** How long since `sinceMs`: `2.1 s`, or `3 min 5 s` past a minute. */
export function elapsed(sinceMs: number, now: number): string {
  const ms = Math.max(0, now - sinceMs);
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  const seconds = Math.floor(ms / 1_000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** What a call is, read from its summary (or its activity type): its kind, its name and its step. */
function callOf(call: CallInFlight): {
  kind: 'model' | 'summary' | 'tool' | 'other';
  name?: string;
  step?: number;
  marks: string[];
} {
  const parts = (call.summary ?? '').split(' · ');
  const [head, ...rest] = parts;
  const stepPart = rest.find((part) => /^step \d+$/.test(part));
  const step = stepPart ? Number(stepPart.slice('step '.length)) : undefined;
  const marks = rest.filter((part) => part !== stepPart);
  if (head.startsWith('model ')) return { kind: 'model', name: head.slice('model '.length), step, marks };
  if (head === 'summarize') return { kind: 'summary', step, marks };
  if (head.startsWith('tool ')) return { kind: 'tool', name: head.slice('tool '.length), marks };
  if (call.summary) return { kind: 'other', name: call.summary, marks: [] };
  if (call.type === 'callModel') return { kind: 'model', marks: [] };
  if (call.type === 'summarizeConversation') return { kind: 'summary', marks: [] };
  if (call.type === 'runTool') return { kind: 'tool', marks: [] };
  return { kind: 'other', name: call.type, marks: [] };
}

/** The worker role whose workers take `call`: model calls and summaries `model`, tools `tools`. */
function roleOf(call: CallInFlight): 'model' | 'tools' | undefined {
  const { kind } = callOf(call);
  return kind === 'tool' ? 'tools' : kind === 'model' || kind === 'summary' ? 'model' : undefined;
}

/**
 * What a call no worker runs waits for, where its task queue is known: `for a tools worker on
 * agents-tools — WORKER_ROLE=tools npm run worker` when none polls the queue (the one it lost not
 * counted), else only for which worker where. A call on the run's own queue (`runTaskQueue`) waits
 * for any worker.
 */
export function waitingFor(call: CallInFlight, runTaskQueue?: string): string | undefined {
  const queue = call.taskQueue;
  if (!queue) return undefined;
  const role = queue === runTaskQueue ? undefined : roleOf(call);
  const who = role ? `a ${role} worker` : 'a worker';
  if (call.polled === false) {
    return `for ${who} on ${queue} — ${role ? roleWorkerCommand(role, queue) : runsWorkerCommand(queue)}`;
  }
  // A worker polls it (or it is not known): it is about to be taken, or they are busy.
  return `for ${who} on ${queue}`;
}

/**
 * A call being retried: its attempt and last error; one whose worker stopped mid-call says so, and
 * while no worker runs its next attempt, what that waits for.
 */
/**
 * A retried call's state, without its name: its attempt and last error, or that its worker stopped
 * mid-call; while no worker polls its queue, what its next attempt waits for (else it waits for its
 * retry's backoff, or is about to be taken: nothing to add).
 */
function retriedState(call: CallInFlight, runTaskQueue?: string): string | undefined {
  const retry = retrying(call);
  if (!retry) return undefined;
  const waits = !call.running && call.polled === false ? waitingFor(call, runTaskQueue) : undefined;
  if (!call.lastFailure?.workerLost) return `${retry}${waits ? `; waiting ${waits}` : ''}`;
  const of = call.maximumAttempts ? ` of ${call.maximumAttempts}` : '';
  const next = call.running ? runningState(call) : `waiting ${waits ?? 'to run again'}`;
  return `${call.lastFailure.message}; attempt ${call.attempt}${of} ${next}`;
}

/** A retried call as the live line and the stream say it: `tool get_balance failing: attempt 2 of 3, …`. */
export function failingLine(call: CallInFlight, runTaskQueue?: string): string | undefined {
  const state = retriedState(call, runTaskQueue);
  if (!state) return undefined;
  return call.lastFailure?.workerLost ? `${calledWhat(call)}: ${state}` : `${calledWhat(call)} failing: ${state}`;
}

/** What a running call is told apart by, in parentheses: its summary's marks (`fallback`), a cancel asked of it. */
function marksOf(call: CallInFlight): string {
  const marks = [...callOf(call).marks, ...(call.cancelRequested ? [CANCEL_REQUESTED] : [])];
  return marks.length ? ` (${marks.join(', ')})` : '';
}

/** A call as a phrase: `calling gpt-4o-mini`, `running lookup_order`, `summarizing the conversation`. */
function doing(call: CallInFlight): string {
  const { kind, name } = callOf(call);
  const phrase = {
    model: `calling ${name ?? 'the model'}`,
    summary: 'summarizing the conversation',
    tool: `running ${name ?? 'a tool'}`,
    other: name ?? call.type,
  }[kind];
  return `${phrase}${marksOf(call)}`;
}

/** What a failing call is called in its line: `model call`, `tool lookup_order`. */
export function calledWhat(call: CallInFlight): string {
  const { kind, name } = callOf(call);
  if (kind === 'model') return 'model call';
  if (kind === 'summary') return 'summary call';
  if (kind === 'tool') return name ? `tool ${name}` : 'tool call';
  return name ?? call.type;
}

/**
 * The line without its clock: the approval the run waits for (with the command that gives it), else
 * a call being retried (its attempt and last error), else the calls in flight, else a session waiting
 * for a message. Undefined when there is nothing to say (the run is between two steps, or has not
 * started: a missing worker is told apart).
 */
export function liveLineParts(
  description: LiveDescription,
  state: AgentRunState | undefined,
): LiveLineParts | undefined {
  const { workflowId, calls, taskQueue } = description;
  const approvals = state?.pendingApprovals ?? [];
  if (approvals.length) {
    const first = formatWaitNotice({ type: 'awaiting_approval', workflowId, pendingApprovals: [approvals[0]] });
    const more =
      approvals.length > 1 ? ` (and ${approvals.length - 1} more: ${programName()} status ${workflowId})` : '';
    return { text: `${first}${more}` };
  }
  const stepOf = (call: CallInFlight) => callOf(call).step ?? (state?.step || undefined);
  const prefix = (step: number | undefined) => (step === undefined ? '' : `step ${step} · `);
  const failing = calls.find((call) => retrying(call));
  if (failing) return { text: `${prefix(stepOf(failing))}${failingLine(failing, taskQueue)}` };
  const paced = calls.find((call) => call.pacing);
  if (paced?.pacing) {
    return { text: `${prefix(stepOf(paced))}${pacingText(paced.pacing.limit)}`, resumesAtMs: paced.pacing.resumesAtMs };
  }
  if (calls.length) {
    // Only a call a worker runs is `running`; one no worker has taken says what it waits for.
    const running = calls.filter((call) => call.running);
    const tools = running.filter((call) => callOf(call).kind === 'tool');
    const what = [
      ...(tools.length === running.length && tools.length > 1
        ? [`running ${tools.map((call) => `${callOf(call).name ?? 'a tool'}${marksOf(call)}`).join(', ')}`]
        : running.map(doing)),
      ...calls
        .filter((call) => !call.running)
        .map((call) => `${calledWhat(call)} waiting ${waitingFor(call, taskQueue) ?? 'for a worker to take it'}`),
    ].join(', ');
    return { text: `${prefix(stepOf(calls[0]))}${what}`, sinceMs: Math.min(...calls.map((call) => call.sinceMs)) };
  }
  if (state?.status === 'awaiting_input') {
    return { text: `awaiting a message — ${programName()} send ${workflowId} "..."` };
  }
  return undefined;
}

/** The live line at `now`: `step 3 · calling gpt-4o-mini (2.1 s)`, or undefined when there is nothing to say. */
export function liveLine(
  description: LiveDescription,
  state: AgentRunState | undefined,
  now: number,
): string | undefined {
  const parts = liveLineParts(description, state);
  if (!parts) return undefined;
  if (parts.resumesAtMs !== undefined) return `${parts.text}, ${resumesIn(parts.resumesAtMs, now)}`;
  return parts.sinceMs === undefined ? parts.text : `${parts.text} (${elapsed(parts.sinceMs, now)})`;
}

/**
 * A call in flight as `status` lists it, in the live line's words: `model gpt-4o-mini · step 2:
 * attempt 3 of 5, last error: ...`, `tool get_balance: waiting for a tools worker on agents-tools — ...`.
 */
export function formatCallInFlight(call: CallInFlight, now: number, runTaskQueue?: string): string {
  const what = call.summary ?? call.type;
  const retried = retriedState(call, runTaskQueue);
  if (retried) return `${what}: ${retried}`;
  if (call.pacing) return `${what}: ${pacingText(call.pacing.limit)}, ${resumesIn(call.pacing.resumesAtMs, now)}`;
  const waits = call.running ? runningState(call) : `waiting ${waitingFor(call, runTaskQueue) ?? 'for a worker'}`;
  return `${what}: ${waits} (${elapsed(call.sinceMs, now)})`;
}

/**
 * What `status` shows after a run's status and usage: its calls in flight (one being retried with
 * its attempt and last error), then the usage of each step (tokens, cost and latency) and the totals.
 */
export function formatProgress(
  {
    callsInFlight,
    stepUsage,
    taskQueue,
  }: { callsInFlight?: CallInFlight[]; stepUsage?: StepUsage[]; taskQueue?: string },
  now: number,
): string[] {
  return [
    ...(callsInFlight?.length
      ? ['calls in flight:', ...callsInFlight.map((call) => `  ${formatCallInFlight(call, now, taskQueue)}`)]
      : []),
    ...(stepUsage?.length
      ? [
          'usage by step:',
          ...formatSteps(stepUsage)
            .split('\n')
            .map((row) => `  ${row}`),
        ]
      : []),
  ];
}

/** Where a live line is written: stderr, or a stand-in in tests. */
export interface LineStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

const CLEAR_LINE = '\r\x1b[2K';

/**
 * Keeps the live line on a stream among the permanent lines (notices) written through it. On a
 * terminal one line is rewritten in place (and its clock ticks); elsewhere (a pipe, a log) a line is
 * written only when what it says changes, without the clock. Either way it never repeats the line
 * just written above it (an approval's notice says what its live line would). What it writes quotes
 * names and errors from runs: their control characters are shown as escapes (src/terminal-text.ts).
 */
export class LiveLinePrinter {
  private description: LiveDescription | undefined;
  private state: AgentRunState | undefined;
  /** What the terminal shows on the live line now. */
  private shown = '';
  /** The last permanent line written: a notice, or off a terminal a live line. */
  private lastLine: string | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: LineStream,
    private readonly now: () => number = Date.now,
    refreshMs = 200,
  ) {
    if (stream.isTTY && refreshMs > 0) {
      this.timer = setInterval(() => this.render(), refreshMs);
      this.timer.unref();
    }
  }

  /** What the run does now, as a check saw it. */
  show(description: LiveDescription, state: AgentRunState | undefined): void {
    this.description = description;
    this.state = state;
    if (this.stream.isTTY) {
      this.render();
      return;
    }
    const text = liveLineParts(description, state)?.text;
    if (text !== undefined && text !== this.lastLine) this.writeLine(text);
  }

  /** A line that stays (a notice): written above the live line. */
  note(line: string): void {
    if (!this.stream.isTTY) {
      this.writeLine(line);
      return;
    }
    this.stream.write(`${this.shown ? CLEAR_LINE : ''}${terminalSafe(line)}\n`);
    this.shown = '';
    this.lastLine = line;
    this.render();
  }

  /** Clears the live line (on a terminal) and stops its clock: the command is about to answer. */
  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.stream.isTTY && this.shown) this.stream.write(CLEAR_LINE);
    this.shown = '';
    this.description = undefined;
  }

  /** Redraws the terminal's live line if it changed; cut to the terminal's width, since a wrapped line cannot be rewritten. */
  private render(): void {
    const parts = this.description && liveLineParts(this.description, this.state);
    const line =
      parts && parts.text !== this.lastLine ? terminalSafe(liveLine(this.description!, this.state, this.now())!) : '';
    const width = (this.stream.columns ?? 0) - 1;
    const fitted = width > 0 && line.length > width ? `${line.slice(0, width - 1)}…` : line;
    if (fitted === this.shown) return;
    this.stream.write(`${CLEAR_LINE}${fitted}`);
    this.shown = fitted;
  }

  private writeLine(line: string): void {
    this.stream.write(`${terminalSafe(line)}\n`);
    this.lastLine = line;
  }
}

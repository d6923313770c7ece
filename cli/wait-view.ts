/**
 * How a waiting command shows what it waits for (`result`, `start --wait`, `send`): a live line on
 * stderr for what the run does now among the notices of what it waits for, or the run's stream as it
 * happens, with the answer on stdout once it comes.
 */
import type { AgentClient } from '../client/agent-client';
import type { RunStreamEvent, StreamOptions } from '../client/run-stream';
import type { TreeStreamEvent } from '../client/tree-stream';
import type { WaitNotice, WaitOptions } from '../client/waiting';
import { formatWaitNotice } from './format';
import { LiveLinePrinter } from './live-line';
import { warn } from './output';
import { StreamPrinter, type PrinterOptions } from './stream-printer';
import { TreePrinter } from './tree-printer';

/**
 * A command's wait, with a live line on stderr for what the run does now (rewritten in place on a
 * terminal, a line per change elsewhere) among the lines of what it waits for. With `--json` off a
 * terminal, a script is reading: it hears only what the run waits for.
 */
export async function withLiveLine<T>(json: boolean, wait: (options: WaitOptions) => Promise<T>): Promise<T> {
  const live = new LiveLinePrinter(process.stderr);
  const shown = !json || Boolean(process.stderr.isTTY);
  try {
    return await wait({
      onWait: (notice) => live.note(formatWaitNotice(notice)),
      ...(shown && { onLive: (description, state) => live.show(description, state) }),
    });
  } finally {
    live.stop();
  }
}

/**
 * How a waiting command shows the run's stream (unless `--no-stream`): with `--json`, every event as a
 * line of JSON on stdout; on a terminal (stdout's, else stderr's, so that stdout may go to a file),
 * through a `StreamPrinter`. Off a terminal and without `--json` there is no stream to show: the
 * command prints its answer when it has it, with the live line on stderr, as with `--no-stream`.
 */
export type StreamView = { json: true } | { json: false; printer: TreePrinter; onStdout: boolean };

export function streamView(json: boolean, stream: boolean, options: PrinterOptions): StreamView | undefined {
  if (!stream) return undefined;
  if (json) return { json: true };
  const terminal = [process.stdout, process.stderr].find((out) => out.isTTY);
  if (!terminal) return undefined;
  // Sub-agents' lines go to the same terminal, a message at a time.
  const plain = { write: (text: string) => terminal.write(text) };
  const printer = new TreePrinter(new StreamPrinter(terminal, options), plain, options);
  return { json: false, printer, onStdout: terminal === process.stdout };
}

/** The sub-agent runs a tree's stream told of (`sub_agent`) whose own streams have not ended, by agent path. */
class SubAgentStreams {
  private readonly open = new Map<string, number>();

  saw(event: TreeStreamEvent): void {
    const path =
      event.type === 'sub_agent'
        ? [...(event.agentPath ?? []), event.agent]
        : (event.type === 'result' || event.type === 'failure') && event.agentPath;
    if (!path) return;
    const key = path.join('/');
    this.open.set(key, (this.open.get(key) ?? 0) + (event.type === 'sub_agent' ? 1 : -1));
  }

  allEnded(): boolean {
    return [...this.open.values()].every((count) => count <= 0);
  }
}

/** How long a command waits for the stream to first hear from the run before it acts on it. */
const STREAM_READY_MS = 2_000;
/** How long a command that has its answer waits for the stream to catch up with it. */
const STREAM_CATCH_UP_MS = 3_000;

/**
 * `wait` (a reply, a result) while showing the run's stream in `view`; once `wait` is done, the
 * stream gets a moment to show the rest of it (until `caughtUp` says an event is the last it needs).
 * A stream that fails never fails the wait.
 */
export async function whileStreaming<T>(
  agents: AgentClient,
  id: string,
  view: StreamView,
  from: StreamOptions['from'],
  caughtUp: (event: RunStreamEvent, answer: T) => boolean,
  wait: () => Promise<T>,
): Promise<T> {
  const tell = (notice: WaitNotice) =>
    view.json ? warn(formatWaitNotice(notice)) : view.printer.root.line(formatWaitNotice(notice));
  const show = (event: TreeStreamEvent) => {
    if (view.json) console.log(JSON.stringify(event));
    else view.printer.show(event);
    // The stream tells each call that comes to await approval once, as the wait's notice; one below
    // in a sub-agent comes to the run's own stream too, with the id the run lists it by.
    if (event.type === 'approval' && !event.agentPath) {
      const { type: _approval, ...approval } = event;
      tell({ type: 'awaiting_approval', workflowId: id, pendingApprovals: [approval] });
    }
  };
  const stop = new AbortController();
  let answer: { value: T } | undefined;
  let heard: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (heard = resolve));
  const following = (async () => {
    const subAgents = new SubAgentStreams();
    let rootCaughtUp = false;
    // The stream's looks tell what the run waits for: the wait itself only waits.
    for await (const event of agents.streamTree(id, { from, signal: stop.signal, onReady: heard, onWait: tell })) {
      show(event);
      subAgents.saw(event);
      if (answer && !event.agentPath && caughtUp(event, answer.value)) rootCaughtUp = true;
      // A sub-agent's stream may still be telling what it said before the answer it gave the run.
      if (rootCaughtUp && subAgents.allEnded()) return;
    }
  })().catch((error: Error) => {
    // The wait goes on without it: the answer is shown when it comes.
    warn(`note: live output stopped (${error.message})`);
  });
  try {
    // What the stream tells from now on starts before the wait acts on the run (at most a moment later).
    await Promise.race([ready, following, new Promise((resolve) => setTimeout(resolve, STREAM_READY_MS).unref())]);
    answer = { value: await wait() };
    const timer = setTimeout(() => stop.abort(), STREAM_CATCH_UP_MS);
    await following;
    clearTimeout(timer);
    return answer.value;
  } finally {
    stop.abort();
  }
}

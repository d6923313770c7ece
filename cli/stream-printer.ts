/**
 * Shows a run's stream (`AgentClient.stream`) to a person. On a terminal, the model's text appears
 * as it is written; when an attempt fails mid-answer its text is erased and the CLI says it retries,
 * so what stays on screen is the answer, once. Off a terminal nothing can be erased: only whole
 * messages are printed, a line each, as `transcript` prints them. The text it shows comes from users,
 * models and tools: its control characters are shown as escapes (src/terminal-text.ts), so the only
 * escape sequences that reach the terminal are the printer's own.
 */
import { terminalSafe } from '../src/terminal-text';
import type { RunStreamEvent } from '../client/run-stream';
import { formatToolCall, formatToolResult } from './format';
import { calledWhat, elapsed, failingLine, waitingFor } from './live-line';

/** Where a printer writes: a terminal (`isTTY`, with its size) or anything else. */
export interface PrinterOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const ERASE_DOWN = '\x1b[J';

/** Wide (East Asian wide and fullwidth, emoji) code point ranges: two columns each on a terminal. */
const WIDE: readonly [number, number][] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe30, 0xfe4f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x3fffd],
];

/** Columns a character takes on a terminal: 0 for combining marks, 2 for wide ones, else 1. */
function displayWidth(char: string): number {
  const code = char.codePointAt(0) ?? 0;
  if ((code >= 0x300 && code <= 0x36f) || (code >= 0x200b && code <= 0x200f)) return 0;
  return WIDE.some(([from, to]) => code >= from && code <= to) ? 2 : 1;
}
const up = (rows: number) => (rows > 0 ? `\x1b[${rows}A` : '');

/**
 * `out` with each line opened by `label` (and never live): where a sub-agent's events are shown, beside
 * its parent's, a message at a time.
 */
export function labelledOutput(out: PrinterOutput, label: string): PrinterOutput {
  let lineStart = true;
  return {
    write(text: string) {
      let shown = '';
      for (const char of text) {
        if (lineStart && char !== '\n') shown += label;
        lineStart = char === '\n';
        shown += char;
      }
      return out.write(shown);
    },
  };
}

/** Which events a command shows besides the model's answers: `watch` shows all; `send` and `start` the calls. */
export interface PrinterOptions {
  /** User messages and status changes (`watch`). */
  transcript: boolean;
}

export class StreamPrinter {
  /** Text of the answer in progress, on screen since the start of a line. */
  private partial = '';
  /** Whether the cursor is past the start of a line. */
  private midLine = false;
  /** The last answer shown whole: `finish` does not show it again. */
  private lastAnswer?: string;

  constructor(
    private readonly out: PrinterOutput,
    private readonly options: PrinterOptions,
  ) {}

  /** Whether text is shown as it comes (a terminal) rather than a message at a time. */
  get live(): boolean {
    return Boolean(this.out.isTTY);
  }

  show(event: RunStreamEvent): void {
    switch (event.type) {
      case 'text': {
        if (!this.live) return;
        if (!this.partial) this.breakLine();
        // Made inert a character at a time: the chunks shown add up to the whole answer made inert.
        const text = terminalSafe(event.text);
        this.write(text);
        this.partial += text;
        return;
      }
      case 'retry':
        if (!this.live) return;
        this.erasePartial();
        this.line(
          `(step ${event.step}: the model call failed mid-answer; retrying, ${event.failure ?? `attempt ${event.attempt}`})`,
        );
        return;
      case 'untaken': {
        // As the live line and `status` say it: the task queue and the worker to start, where known.
        const waits = waitingFor(event.call) ?? 'for a worker to take it: none polls its task queue, or all are busy';
        this.line(`(${calledWhat(event.call)} waiting ${elapsed(event.call.sinceMs, Date.now())} ${waits})`);
        return;
      }
      case 'failing':
        this.line(`(${failingLine(event.call) ?? `${calledWhat(event.call)} failing: attempt ${event.call.attempt}`})`);
        return;
      case 'user':
        if (this.options.transcript) this.line(`user: ${event.text}`);
        return;
      case 'assistant':
        this.showAnswer(event.text);
        return;
      case 'tool_call':
        this.line(formatToolCall(event.tool, event.args));
        return;
      case 'tool_result':
        this.line(formatToolResult(event.content));
        return;
      case 'sub_agent':
        // Its own lines follow, labelled with its path: its run id is for `status`, `approve`, `watch`.
        this.line(`(sub-agent ${event.agent} runs as ${event.workflowId})`);
        return;
      case 'status': {
        if (!this.options.transcript) return;
        const pending = event.pendingApprovals.map((approval) => `${approval.callId} ${approval.tool}`).join(', ');
        this.line(`[${event.status}${pending ? `: ${pending}` : ''}]`);
        return;
      }
      case 'result':
        if (this.options.transcript) this.line(`[${event.result.status}]`);
        return;
      case 'failure':
        if (this.options.transcript) this.line(`[${event.status}]`);
        return;
      case 'approval':
        // Said by the status line (`watch`) or the wait notice (`send`, `start --wait`).
        return;
    }
  }

  /** A line of its own (a notice): above the text in progress, if there is any. */
  line(text: string): void {
    // Above the text in progress, which stays last on screen so that a retry can still erase it.
    const partial = this.live && this.partial && this.fits(this.partial) ? this.partial : '';
    if (partial) this.erasePartial();
    this.breakLine();
    this.write(`${terminalSafe(text)}\n`);
    this.midLine = false;
    if (partial) {
      this.write(partial);
      this.partial = partial;
    }
  }

  /** The answer a command waited for: shown unless the stream showed it already (the run trims what it returns). */
  finish(answer: string): void {
    if (answer.trim() !== this.lastAnswer?.trim()) this.showAnswer(answer);
    this.breakLine();
  }

  /** A recorded answer: the streamed text ends here, or is replaced by the answer if it differs. */
  private showAnswer(text: string): void {
    if (this.live && this.partial === terminalSafe(text)) {
      this.partial = '';
      this.breakLine();
    } else {
      this.erasePartial();
      this.line(this.live ? text : `assistant: ${text}`);
    }
    this.lastAnswer = text;
  }

  /** Takes the text in progress off the screen, if it still fits on it; else leaves a line saying it is void. */
  private erasePartial(): void {
    if (!this.partial) return;
    const { partial } = this;
    this.partial = '';
    if (this.fits(partial)) {
      this.write(`${up(this.rowsOf(partial) - 1)}\r${ERASE_DOWN}`);
      this.midLine = false;
    } else this.line('(the text above is void)');
  }

  /** Whether `text` is on screen whole: what scrolled off cannot be erased. */
  private fits(text: string): boolean {
    return this.rowsOf(text) <= (this.out.rows || 24);
  }

  /** Screen rows `text` takes from the start of a line, wrapped at the terminal's width as a terminal wraps it. */
  private rowsOf(text: string): number {
    const columns = this.out.columns || 80;
    let rows = 1;
    let column = 0;
    for (const char of text) {
      if (char === '\n') {
        rows += 1;
        column = 0;
        continue;
      }
      const width = displayWidth(char);
      // A character that does not fit goes to the next row whole (a wide one leaves a blank cell).
      if (column + width > columns) {
        rows += 1;
        column = 0;
      }
      column += width;
    }
    return rows;
  }

  private breakLine(): void {
    if (this.midLine) this.write('\n');
    this.midLine = false;
  }

  private write(text: string): void {
    if (!text) return;
    this.out.write(text);
    this.midLine = !text.endsWith('\n');
  }
}

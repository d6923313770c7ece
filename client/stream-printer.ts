/**
 * Shows a run's stream (`AgentClient.stream`) to a person. On a terminal, the model's text appears
 * as it is written; when an attempt fails mid-answer its text is erased and the CLI says it retries,
 * so what stays on screen is the answer, once. Off a terminal nothing can be erased: only whole
 * messages are printed, a line each, as `transcript` prints them.
 */
import type { RunStreamEvent } from './run-stream';
import { formatToolCall, formatToolResult } from './format';
import { liveLine } from './live-line';

/** Where a printer writes: a terminal (`isTTY`, with its size) or anything else. */
export interface PrinterOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

const ERASE_DOWN = '\x1b[J';
const up = (rows: number) => (rows > 0 ? `\x1b[${rows}A` : '');

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
      case 'text':
        if (!this.live) return;
        if (!this.partial) this.breakLine();
        this.write(event.text);
        this.partial += event.text;
        return;
      case 'retry':
        if (!this.live) return;
        this.erasePartial();
        this.line(
          `(step ${event.step}: the model call failed mid-answer; retrying, ${event.failure ?? `attempt ${event.attempt}`})`,
        );
        return;
      case 'failing':
        this.line(`(${liveLine({ workflowId: '', calls: [event.call] }, undefined, Date.now()) ?? event.call.type})`);
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

  /** A line of its own (a notice), after the text in progress. */
  line(text: string): void {
    this.breakLine();
    this.write(`${text}\n`);
    this.midLine = false;
  }

  /** The answer a command waited for: shown unless the stream showed it already (the run trims what it returns). */
  finish(answer: string): void {
    if (answer.trim() !== this.lastAnswer?.trim()) this.showAnswer(answer);
    this.breakLine();
  }

  /** A recorded answer: the streamed text ends here, or is replaced by the answer if it differs. */
  private showAnswer(text: string): void {
    if (this.live && this.partial === text) {
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
    const rows = this.rowsOf(this.partial);
    this.partial = '';
    if (rows <= (this.out.rows || 24)) {
      this.write(`${up(rows - 1)}\r${ERASE_DOWN}`);
      this.midLine = false;
    } else this.line('(the text above is void)');
  }

  /** Screen rows `text` takes from the start of a line, at the terminal's width. */
  private rowsOf(text: string): number {
    const columns = this.out.columns || 80;
    return text.split('\n').reduce((rows, line) => rows + Math.max(1, Math.ceil([...line].length / columns)), 0);
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

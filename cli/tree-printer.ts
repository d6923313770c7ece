/**
 * Showing a tree of runs' events (`AgentClient.streamTree`): the run's own through its printer, each
 * sub-agent's through a printer of its own whose lines open with the sub-agent's path
 * (`[researcher › clerk] `), a message at a time, never live: a sub-agent works while its parent
 * waits for its answer, so their lines do not cut into each other.
 */
import type { TreeStreamEvent } from '../client/tree-stream';
import { terminalSafe } from '../src/terminal-text';
import { labelledOutput, StreamPrinter, type PrinterOptions, type PrinterOutput } from './stream-printer';

export class TreePrinter {
  private readonly subAgents = new Map<string, StreamPrinter>();

  /** `root` shows the run's own events; sub-agents' go to `out` (a plain writer) with `options`. */
  constructor(
    readonly root: StreamPrinter,
    private readonly out: PrinterOutput,
    private readonly options: PrinterOptions,
  ) {}

  show(event: TreeStreamEvent): void {
    this.printerOf(event.agentPath).show(event);
  }

  private printerOf(path: string[] | undefined): StreamPrinter {
    if (!path) return this.root;
    const label = `[${path.map(terminalSafe).join(' › ')}] `;
    let printer = this.subAgents.get(label);
    if (!printer) {
      printer = new StreamPrinter(labelledOutput(this.out, label), this.options);
      this.subAgents.set(label, printer);
    }
    return printer;
  }
}

/**
 * The run commands that read runs: `status`, `result` (waiting for it), `watch` (following it),
 * `transcript` and `export` (from its history, no worker needed) and `list`.
 */
import { Option, type Command } from 'commander';
import type { RunReport } from '../../client/run-types';
import type { RunStreamEvent } from '../../client/run-stream';
import { SHOWN_STATUSES } from '../../client/run-status';
import { startWorkerHint } from '../../client/shell-hints';
import { RunStatus } from '../../src/types';
import { positiveNumber, runId } from '../arg-parsers';
import type { CommandContext } from '../command-context';
import { EXPORT_FORMATS, exportTranscript, type ExportFormat } from '../export-writers';
import {
  formatApprovals,
  formatReport,
  formatResult,
  formatRunList,
  formatRunTranscript,
  formatState,
  formatSubAgentTree,
} from '../format';
import { formatProgress } from '../live-line';
import { print, say, tellWaiting, warn } from '../output';
import { StreamPrinter } from '../stream-printer';
import { TreePrinter } from '../tree-printer';
import { withLiveLine } from '../wait-view';

export function registerStatusCommand(program: Command, context: CommandContext): void {
  program
    .command('status')
    .description(
      "show a run's status, usage, pending approvals and tree of sub-agents; a closed run's ending comes from its history " +
        '(exit code 1 if it failed, timed out or was terminated)',
    )
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      const json = context.json();
      const agents = await context.connect();
      const report = await agents.report(id);
      const { state, noWorker } = report;
      const subAgents = await agents.subAgents(id);
      const tree = subAgents.length ? { subAgents } : {};
      // An open run speaks for itself; a closed one is how it ended (with its state, where a worker can replay it).
      // An open run's calls in flight (one being retried: its attempt and last error) and each step's usage follow.
      // Then every decision on a call that awaited approval: the run's audit trail, from its history.
      const progress = [
        ...formatSubAgentTree(subAgents),
        ...(report.closed ? [] : formatProgress(report, Date.now())),
        ...formatApprovals(report.approvals ?? []),
      ];
      const { callsInFlight, stepUsage, approvals } = report;
      if (state && !report.closed) {
        // Keyed by `workflowId`, as `list` and a closed run's report are; each pending approval with its command.
        print(json, { workflowId: id, ...state, callsInFlight, stepUsage, approvals, ...tree }, () =>
          [formatState(state, id), ...progress].join('\n'),
        );
      } else print(json, { ...report, ...tree }, () => [formatReport(report), ...progress].join('\n'));
      if (noWorker) {
        const why = noWorker.workflow
          ? `no worker answered the run on task queue "${noWorker.taskQueue}"`
          : `no worker is polling task queue "${noWorker.taskQueue}"`;
        warn(`note: ${why}: this is what the run last recorded (${startWorkerHint(noWorker.taskQueue)})`);
      }
      endedWithout(report);
    });
}

/** Fails the command for a run that ended without finishing its work on its own (a cancelled run was told to stop: that is no failure). */
function endedWithout(report: RunReport): void {
  if (report.failure && report.status !== RunStatus.cancelled) throw new Error(report.failure.error);
}

export function registerResultCommand(program: Command, context: CommandContext): void {
  program
    .command('result')
    .description('wait for a run to finish and print its result')
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      const agents = await context.connect();
      const result = await withLiveLine(context.json(), (options) => agents.result(id, options));
      print(context.json(), result, () => formatResult(result));
    });
}

export function registerWatchCommand(program: Command, context: CommandContext): void {
  program
    .command('watch')
    .description(
      "follow new messages and status changes until the run ends, its sub-agents' labelled with their agent path " +
        '(exit code 1 if it failed, was cancelled or terminated)',
    )
    .argument('<id>', 'run id', runId)
    .option('--no-stream', "show the model's answers when they are complete, not as it writes them")
    .action((id: string, options: { stream: boolean }) => watch(context, id, options));
}

async function watch(context: CommandContext, id: string, options: { stream: boolean }): Promise<void> {
  // Off a terminal (and with --no-stream) whole messages, a line each; with --json every event.
  const stdout = { write: (text: string) => process.stdout.write(text) };
  const printer = new StreamPrinter(options.stream ? process.stdout : stdout, { transcript: true });
  const tree = new TreePrinter(printer, stdout, { transcript: true });
  let ending: RunStreamEvent | undefined;
  for await (const event of (await context.connect()).streamTree(id, { onWait: tellWaiting })) {
    if (context.json()) console.log(JSON.stringify(event));
    else tree.show(event);
    if (!event.agentPath) ending = event;
  }
  // A run that failed, timed out or was terminated ends the command with its one-line error.
  if (ending?.type === 'failure' && ending.status !== RunStatus.cancelled) throw new Error(ending.failure.error);
  // A run that ended with a result: what each step used.
  if (!context.json() && ending?.type === 'result') {
    const { stepUsage } = await (await context.connect()).report(id);
    if (stepUsage?.length) say(formatProgress({ stepUsage }, Date.now()).join('\n'));
  }
}

export function registerTranscriptCommand(program: Command, context: CommandContext): void {
  program
    .command('transcript')
    .description("show a run's messages and per-step usage, read from its history (no worker needed)")
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      const transcript = await (await context.connect()).transcript(id);
      print(context.json(), transcript, () => formatRunTranscript(transcript));
    });
}

export function registerExportCommand(program: Command, context: CommandContext): void {
  program
    .command('export')
    .description("write a run's transcript and usage to stdout, read from its history (no worker needed)")
    .argument('<id>', 'run id', runId)
    .addOption(
      new Option(
        '--format <format>',
        'md (markdown), jsonl (a message a line, then usage) or openai (a Chat Completions request)',
      )
        .choices(EXPORT_FORMATS)
        .default('md'),
    )
    .action(async (id: string, options: { format: ExportFormat }) => {
      const exported = exportTranscript(await (await context.connect()).transcript(id), options.format);
      // A file or a pipe gets the transcript as it is; a terminal gets it for people, made inert.
      if (process.stdout.isTTY) say(exported);
      else console.log(exported);
    });
}

export function registerListCommand(program: Command, context: CommandContext): void {
  program
    .command('list')
    .description(
      "list agent runs, newest first, with their steps, tokens and cost (a tree's for a run with sub-agents)",
    )
    .addOption(new Option('--status <status>', 'only runs in this status').choices(SHOWN_STATUSES))
    .option('--agent <name>', 'only runs of this agent')
    .option('--user <id>', 'only runs of this user')
    .option('--limit <n>', 'at most this many', positiveNumber, 50)
    .option('--all', "sub-agents' runs too (by default, only the runs at the root of their trees)")
    .action(async (options) => {
      const runs = await (await context.connect()).list(options);
      print(context.json(), runs, () => formatRunList(runs));
    });
}

/**
 * The capacity table `npm run bench` ends with (support/capacity.ts applied to its rows), printed as
 * text and written as markdown into docs/capacity.md by `npm run bench:figures`.
 */
import { capacityLine, type CapacityLine, type CapacityQuestion } from './capacity';
import { fixed, formatTable, markdownTable, type Cell } from './table';

/** What the table reads of a bench row in the results JSON. */
export interface CapacityRow {
  label: string;
  overheadPerStepMs?: number;
  workerCpuSecondsPerStep: number;
  serverCpuSecondsPerStep?: number;
  history?: { actions?: number; bytes: number };
  tokensPerRun?: { input: number; output: number };
}

/** The model's tokens per run: the first row's that counted them (every row sends the same requests). */
export function tokensPerRun(rows: readonly CapacityRow[]): { input: number; output: number } {
  return rows.find((row) => row.tokensPerRun)?.tokensPerRun ?? { input: 0, output: 0 };
}

/** The lines of `rows` that have an overhead (a bare row ran). */
export function capacityLines(question: CapacityQuestion, rows: readonly CapacityRow[]): CapacityLine[] {
  const tokens = tokensPerRun(rows);
  return rows
    .filter((row) => row.overheadPerStepMs !== undefined)
    .map((row) =>
      capacityLine(question, {
        label: row.label,
        overheadPerStepMs: row.overheadPerStepMs!,
        workerCpuSecondsPerStep: row.workerCpuSecondsPerStep,
        serverCpuSecondsPerStep: row.serverCpuSecondsPerStep,
        actionsPerRun: row.history?.actions,
        historyBytesPerRun: row.history?.bytes,
        inputTokensPerRun: tokens.input,
        outputTokensPerRun: tokens.output,
      }),
    );
}

const HEADERS = [
  'row',
  'run s',
  'runs/hour',
  'worker cores',
  'server cores',
  'actions/run',
  'actions/hour',
  'actions $/hour',
  'history KB/run',
  'model $/hour',
  'actions $ / model $',
];

function cells(line: CapacityLine): Cell[] {
  return [
    line.label,
    fixed(line.runSeconds, 1),
    fixed(line.runsPerHour, 0),
    fixed(line.workerCores, 1),
    fixed(line.serverCores, 1),
    fixed(line.actionsPerRun, 1),
    fixed(line.actionsPerHour, 0),
    fixed(line.actionsUsdPerHour, 2),
    fixed(line.historyBytesPerRun === undefined ? undefined : line.historyBytesPerRun / 1e3, 1),
    fixed(line.modelUsdPerHour, 2),
    line.actionsOverModelCost === undefined ? undefined : `${(line.actionsOverModelCost * 100).toFixed(0)}%`,
  ];
}

/** What the table assumes, in one sentence. */
export function capacityCaption(question: CapacityQuestion, tokens: { input: number; output: number }): string {
  const { prices } = question;
  return (
    `Per ${question.concurrentRuns} runs in flight at a model latency of ${question.modelLatencyMs} ms a step, ` +
    `${question.stepsPerRun} steps a run; the bench's ${tokens.input.toFixed(0)} input and ${tokens.output.toFixed(0)} ` +
    `output tokens a run at $${prices.inputPerMillionTokens} / $${prices.outputPerMillionTokens} ` +
    `per million, Temporal Actions at $${prices.perMillionActions} per million.`
  );
}

export function capacityTextTable(lines: readonly CapacityLine[]): string {
  return formatTable(HEADERS, lines.map(cells));
}

export function capacityMarkdownTable(lines: readonly CapacityLine[]): string {
  return markdownTable(HEADERS, lines.map(cells));
}

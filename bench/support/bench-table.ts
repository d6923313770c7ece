/**
 * The bench's main table, from its rows as `npm run bench` writes them to JSON: printed as text by
 * the bench, and as markdown into docs/performance.md by `npm run bench:figures`, so the figures in
 * the docs are the bench's own, never retyped.
 */
import { fixed, formatTable, markdownTable, mb, type Cell } from './table';

/** What the table reads of a row of the bench's JSON. */
export interface BenchTableRow {
  label: string;
  runsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  overheadPerStepMs?: number;
  workerCpuSecondsPerStep: number;
  serverCpuSecondsPerStep?: number;
  workerRssBytes: number;
  history?: { eventsPerStep: number; bytesPerStep: number };
  /** A peer engine's own persisted bytes (no Temporal history). */
  persisted?: { bytesPerStep: number };
  recovery?: { resumeMs: number; completeMs: number };
}

const HEADERS = [
  'row',
  'runs/s',
  'p50 ms',
  'p95 ms',
  'overhead ms/step',
  'worker CPU ms/step',
  'server CPU ms/step',
  'worker RSS MB',
  'events/step',
  'persisted KB/step',
  'recovery: resumed s',
  'recovery: done s',
];

const ms = (seconds: number | undefined) => fixed(seconds === undefined ? undefined : seconds * 1000, 2);

function cells(row: BenchTableRow): Cell[] {
  const persisted = row.history?.bytesPerStep ?? row.persisted?.bytesPerStep;
  return [
    row.label,
    fixed(row.runsPerSecond, 1),
    fixed(row.p50Ms, 1),
    fixed(row.p95Ms, 1),
    fixed(row.overheadPerStepMs, 2),
    ms(row.workerCpuSecondsPerStep),
    ms(row.serverCpuSecondsPerStep),
    mb(row.workerRssBytes),
    fixed(row.history?.eventsPerStep, 1),
    fixed(persisted === undefined ? undefined : persisted / 1e3, 2),
    fixed(row.recovery && row.recovery.resumeMs / 1e3, 1),
    fixed(row.recovery && row.recovery.completeMs / 1e3, 1),
  ];
}

/** The table as the bench prints it. */
export function benchTextTable(rows: BenchTableRow[]): string {
  return formatTable(HEADERS, rows.map(cells));
}

/** The same table in markdown (figures right-aligned). */
export function benchMarkdownTable(rows: BenchTableRow[]): string {
  return markdownTable(HEADERS, rows.map(cells));
}

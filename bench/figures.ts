/**
 * `npm run bench:figures [results.json]`: makes a bench invocation's results the reference the docs
 * quote. It copies them to bench/reference/bench.json (committed; bench/results/ is not) and writes
 * their table into docs/performance.md between the `bench:begin` and `bench:end` markers, and their
 * capacity table into docs/capacity.md between `capacity:begin` and `capacity:end`. Without an
 * argument it takes the newest bench/results/bench-*.json. A test checks that the docs' tables are the
 * reference's, so no figure is retyped.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchMarkdownTable, type BenchTableRow } from './support/bench-table';
import type { CapacityQuestion } from './support/capacity';
import {
  capacityCaption,
  capacityLines,
  capacityMarkdownTable,
  tokensPerRun,
  type CapacityRow,
} from './support/capacity-table';

export const REFERENCE = join(__dirname, 'reference', 'bench.json');
export const PERFORMANCE_PAGE = join(__dirname, '..', 'docs', 'performance.md');
export const CAPACITY_PAGE = join(__dirname, '..', 'docs', 'capacity.md');

/** The generated blocks: the page, its markers, and what stands between them. */
export const GENERATED = [
  { page: PERFORMANCE_PAGE, marker: 'bench', block: figuresBlock },
  { page: CAPACITY_PAGE, marker: 'capacity', block: capacityBlock },
] as const;

/** The reference results: when and where they were measured, and the rows. */
export interface BenchReference {
  at: string;
  machine: { cpus: number; cpuModel?: string; node: string; loadAverage?: { before: number[]; after: number[] } };
  rows: (BenchTableRow & CapacityRow)[];
  /** The capacity table is computed again from the rows: only the question is read. */
  capacity: { question: CapacityQuestion };
}

function measuredAt({ at, machine }: BenchReference): string {
  const load = machine.loadAverage ? `, load average ${machine.loadAverage.before[0].toFixed(1)} at the start` : '';
  return `Measured ${at.slice(0, 10)} on ${machine.cpus} cores (${machine.cpuModel ?? 'unknown CPU'}${load}), Node ${machine.node}: bench/reference/bench.json.`;
}

/** The docs' table block for `reference`: what stands between the markers. */
export function figuresBlock(reference: BenchReference): string {
  return `${benchMarkdownTable(reference.rows)}\n\n${measuredAt(reference)}\n\n`;
}

/** The capacity page's block for `reference`. */
export function capacityBlock(reference: BenchReference): string {
  const { question } = reference.capacity;
  const lines = capacityLines(question, reference.rows);
  return `${capacityCaption(question, tokensPerRun(reference.rows))}\n\n${capacityMarkdownTable(lines)}\n\n${measuredAt(reference)}\n\n`;
}

/** `page` with the block between its `marker`:begin and `marker`:end comments replaced by `block`. */
export function withFigures(page: string, block: string, marker = 'bench'): string {
  const begin = new RegExp(`<!-- ${marker}:begin[^>]*-->\\n`).exec(page);
  const end = page.indexOf(`<!-- ${marker}:end -->`);
  if (!begin || end < begin.index) throw new Error(`the page has no ${marker}:begin / ${marker}:end markers`);
  const start = begin.index + begin[0].length;
  return `${page.slice(0, start)}\n${block}${page.slice(end)}`;
}

function newestResults(): string {
  const dir = join(__dirname, 'results');
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((name) => /^bench-.*\.json$/.test(name))
        .sort()
    : [];
  if (!files.length) throw new Error('no bench/results/bench-*.json: run `npm run bench` first');
  return join(dir, files.at(-1)!);
}

function main(): void {
  const source = process.argv[2] ?? newestResults();
  mkdirSync(join(__dirname, 'reference'), { recursive: true });
  copyFileSync(source, REFERENCE);
  const reference = JSON.parse(readFileSync(REFERENCE, 'utf8')) as BenchReference;
  for (const { page, marker, block } of GENERATED)
    writeFileSync(page, withFigures(readFileSync(page, 'utf8'), block(reference), marker));
  console.log(
    `bench:figures: ${source} is the reference; the tables of docs/performance.md and docs/capacity.md rewritten`,
  );
}

if (require.main === module) main();

/**
 * `npm run bench:figures [results.json]`: makes a bench invocation's results the reference the docs
 * quote. It copies them to bench/reference/bench.json (committed; bench/results/ is not) and writes
 * their table into docs/performance.md between the `bench:begin` and `bench:end` markers. Without an
 * argument it takes the newest bench/results/bench-*.json. A test checks that the docs' table is the
 * reference's, so no figure is retyped.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { benchMarkdownTable, type BenchTableRow } from './support/bench-table';

export const REFERENCE = join(__dirname, 'reference', 'bench.json');
export const PERFORMANCE_PAGE = join(__dirname, '..', 'docs', 'performance.md');
const BEGIN = /<!-- bench:begin[^>]*-->\n/;
const END = '<!-- bench:end -->';

/** The reference results: when and where they were measured, and the rows. */
export interface BenchReference {
  at: string;
  machine: { cpus: number; cpuModel?: string; node: string };
  rows: BenchTableRow[];
}

/** The docs' table block for `reference`: what stands between the markers. */
export function figuresBlock(reference: BenchReference): string {
  const { at, machine } = reference;
  const measured = `Measured ${at.slice(0, 10)} on ${machine.cpus} cores (${machine.cpuModel ?? 'unknown CPU'}), Node ${machine.node}: bench/reference/bench.json.`;
  return `${benchMarkdownTable(reference.rows)}\n\n${measured}\n\n`;
}

/** `page` with the block between its markers replaced by `block`. */
export function withFigures(page: string, block: string): string {
  const begin = BEGIN.exec(page);
  const end = page.indexOf(END);
  if (!begin || end < begin.index) throw new Error('docs/performance.md has no bench:begin / bench:end markers');
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
  writeFileSync(PERFORMANCE_PAGE, withFigures(readFileSync(PERFORMANCE_PAGE, 'utf8'), figuresBlock(reference)));
  console.log(`bench:figures: ${source} is the reference; docs/performance.md's table rewritten`);
}

if (require.main === module) main();

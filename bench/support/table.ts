/** Plain-text tables for the bench's reports: columns padded to their widest cell. */

export type Cell = string | number | undefined;

/** Renders `rows` under `headers`: the first column left-aligned, the others (figures) right-aligned; undefined shows as `—`. */
export function formatTable(headers: string[], rows: Cell[][]): string {
  const text = rows.map((row) => row.map((cell) => (cell === undefined ? '—' : String(cell))));
  const widths = headers.map((header, column) => Math.max(header.length, ...text.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column])))
      .join('  ');
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

/** `value` with `digits` decimals, or undefined for a value that is not a finite number. */
export function fixed(value: number | undefined | null, digits: number): string | undefined {
  return value === undefined || value === null || !Number.isFinite(value) ? undefined : value.toFixed(digits);
}

/** Bytes as MB (10^6) with one decimal. */
export function mb(bytes: number | undefined): string | undefined {
  return fixed(bytes === undefined ? undefined : bytes / 1e6, 1);
}

/** The same table in markdown: figures right-aligned, undefined as `—`. */
export function markdownTable(headers: string[], rows: Cell[][]): string {
  const line = (values: Cell[]) =>
    `| ${values.map((value) => (value === undefined ? '—' : String(value))).join(' | ')} |`;
  return [
    line(headers),
    `| --- | ${headers
      .slice(1)
      .map(() => '---:')
      .join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

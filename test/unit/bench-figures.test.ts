/**
 * The performance page's main table is the committed bench reference's, as `npm run bench:figures`
 * writes it: a figure in the docs is never retyped.
 */
import { readFileSync } from 'node:fs';
import { figuresBlock, PERFORMANCE_PAGE, REFERENCE, withFigures, type BenchReference } from '../../bench/figures';

describe("the performance page's figures", () => {
  it('are the table of bench/reference/bench.json (run `npm run bench:figures` after a bench)', () => {
    const reference = JSON.parse(readFileSync(REFERENCE, 'utf8')) as BenchReference;
    const page = readFileSync(PERFORMANCE_PAGE, 'utf8');
    expect(reference.rows.length).toBeGreaterThan(0);
    expect(withFigures(page, figuresBlock(reference))).toBe(page);
  });
});

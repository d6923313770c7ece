/**
 * The performance and capacity pages' tables are the committed bench reference's, as
 * `npm run bench:figures` writes them: a figure in the docs is never retyped.
 */
import { readFileSync } from 'node:fs';
import { GENERATED, REFERENCE, withFigures, type BenchReference } from '../../bench/figures';

describe("the docs' bench figures", () => {
  const reference = JSON.parse(readFileSync(REFERENCE, 'utf8')) as BenchReference;

  it.each(GENERATED.map((generated) => [generated.marker, generated] as const))(
    'are the %s table of bench/reference/bench.json (run `npm run bench:figures` after a bench)',
    (_, { page, marker, block }) => {
      const text = readFileSync(page, 'utf8');
      expect(reference.rows.length).toBeGreaterThan(0);
      expect(withFigures(text, block(reference), marker)).toBe(text);
    },
  );
});

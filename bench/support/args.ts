/** Command-line values shared by the bench programs (run.ts, scale.ts), parsed with `node:util` `parseArgs`. */

/** The parseArgs options every bench program takes: eager dispatch on or off, and more worker env. */
export const commonOptions = {
  eager: { type: 'boolean' },
  'no-eager': { type: 'boolean' },
  'worker-env': { type: 'string', multiple: true },
} as const;

/** `value` (a flag's or its env twin's) as a whole number of at least `min`; `fallback` when unset. */
export function wholeNumber(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min)
    throw new Error(`${name} must be a whole number >= ${min}, got ${value}`);
  return number;
}

/**
 * Whether the dev server dispatches activities eagerly: `--eager` (the default) or `--no-eager`, else
 * env BENCH_EAGER=0 turns it off.
 */
export function eagerChoice(values: { eager?: boolean; 'no-eager'?: boolean }): boolean {
  if (values.eager && values['no-eager']) throw new Error('--eager and --no-eager contradict each other');
  if (values['no-eager']) return false;
  if (values.eager) return true;
  return process.env.BENCH_EAGER !== '0';
}

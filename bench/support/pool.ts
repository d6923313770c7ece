/** Runs a task many times with a fixed number in flight: the load every row of `npm run bench` puts on. */

/** Latencies of each run in ms (ascending) and the wall time of all of them. */
export interface PoolResult {
  latenciesMs: number[];
  wallMs: number;
}

/**
 * Runs `task(index)` for index 0..count-1, `concurrency` at a time (a new one starts as one ends);
 * rejects with the first failure, after the runs in flight have settled.
 */
export async function runPool(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<PoolResult> {
  const latenciesMs: number[] = [];
  let next = 0;
  let failure: { error: unknown } | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count && !failure) {
        const index = next++;
        const t0 = performance.now();
        try {
          await task(index);
        } catch (error) {
          failure ??= { error };
          return;
        }
        latenciesMs.push(performance.now() - t0);
      }
    }),
  );
  if (failure) throw failure.error;
  return { latenciesMs: latenciesMs.sort((a, b) => a - b), wallMs: performance.now() - started };
}

/**
 * A small seeded generator (mulberry32) for the fault tests: their plan of runs and order of faults
 * are drawn from one seed, so a failing run replays with the same seed.
 */

export interface SeededRandom {
  /** A number in [0, 1). */
  random(): number;
  /** A whole number from `min` to `max`. */
  between(min: number, max: number): number;
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed;
  const random = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { random, between: (min, max) => Math.round(min + random() * (max - min)) };
}

/**
 * Two workers' pacers against one provider (activities/rate-limit-pacing.ts against the scripted
 * server's window, runtime/scripted-rate-limits.ts), on a simulated clock: a burst of twice the
 * window's budget, calls in flight up to each worker's concurrency, latencies drawn from a seed. The
 * workers share nothing but the provider's counters, as a fleet does; what they may spend twice is
 * one call, when both go alone on the same remainder.
 */
import { ModelCallPacer, pacingKey, type PacedCall } from '../../activities/rate-limit-pacing';
import { RateLimitWindow } from '../../runtime/scripted-rate-limits';
import { seededRandom, type SeededRandom } from '../support/seeded-random';

const KEY = pacingKey('https://api.openai.com/v1', 'sk-fleet');

/** What the simulated fleet did with a burst. */
interface Outcome {
  answered: number;
  refused: number;
}

/** A simulated worker: its pacer, its free slots, and its calls waiting for their turn (woken on each answer). */
interface SimulatedWorker {
  pacer: ModelCallPacer;
  free: number;
  waiting: Set<() => void>;
}

/** A burst on the simulated clock: calls of `cost` tokens, a window of `callsPerWindow` of them. */
interface Burst {
  concurrency: number;
  callsPerWindow: number;
  cost: number;
  /** The most time from a request's arrival to its headers' (its first byte). */
  firstByteMs: number;
}

/**
 * Twice a window's calls, every one ready at once (a refused one ready again after its
 * `retry-after-ms`, as Temporal retries it), through two workers of `concurrency` slots, against a
 * window of 2 s. A request reaches the provider 1–20 ms after it goes, its headers come back 5 ms to
 * `firstByteMs` after that, and its answer ends up to 300 ms later.
 */
function burst(random: SeededRandom, { concurrency, callsPerWindow, cost, firstByteMs }: Burst): Outcome {
  const provider = new RateLimitWindow({ tokensPerWindow: callsPerWindow * cost, windowMs: 2_000 });
  let now = 0;
  // Due last first: the next is popped off the end; an event goes after those due at the same time.
  const events: { at: number; run: () => void }[] = [];
  const at = (delayMs: number, run: () => void) => {
    const due = now + delayMs;
    let low = 0;
    for (let high = events.length; low < high;) {
      const middle = (low + high) >> 1;
      if (events[middle].at > due) low = middle + 1;
      else high = middle;
    }
    events.splice(low, 0, { at: due, run });
  };
  const workers: SimulatedWorker[] = [0, 1].map(() => ({
    pacer: new ModelCallPacer(undefined, () => now),
    free: concurrency,
    waiting: new Set(),
  }));
  const ready: number[] = Array.from({ length: 2 * callsPerWindow }, (_, call) => call);
  const outcome: Outcome = { answered: 0, refused: 0 };

  const heard = (worker: SimulatedWorker, call: PacedCall, headers: Record<string, string>) => {
    call.heard(new Headers(headers));
    const waking = [...worker.waiting];
    worker.waiting.clear();
    for (const wake of waking) wake();
  };
  const request = (worker: SimulatedWorker, task: number, call: PacedCall) =>
    at(random.between(1, 20), () => {
      const decision = provider.take(cost, now);
      at(random.between(5, firstByteMs), () => {
        heard(worker, call, decision.headers);
        if (decision.allowed) {
          outcome.answered += 1;
          at(random.between(0, 300), () => release(worker));
          return;
        }
        outcome.refused += 1;
        release(worker);
        at(Number(decision.headers['retry-after-ms']), () => {
          ready.push(task);
          dispatch();
        });
      });
    });
  // As the activity's `paced` does: check, and wait for the reset or the next hearing if told to.
  const tryToGo = (worker: SimulatedWorker, task: number) => {
    const wait = worker.pacer.waitFor(KEY, cost);
    if (!wait) return request(worker, task, worker.pacer.start(KEY, cost));
    let woken = false;
    const wake = () => {
      if (woken) return;
      woken = true;
      worker.waiting.delete(wake);
      tryToGo(worker, task);
    };
    if (wait.untilHeard) worker.waiting.add(wake);
    if (Number.isFinite(wait.waitMs)) at(wait.waitMs, wake);
  };
  const release = (worker: SimulatedWorker) => {
    worker.free += 1;
    dispatch();
  };
  // Whichever worker polls first takes the next call, as Temporal hands out a task queue's tasks.
  const dispatch = () => {
    for (let open = workers.filter((w) => w.free > 0); ready.length && open.length;) {
      const worker = open[random.between(0, open.length - 1)];
      worker.free -= 1;
      tryToGo(worker, ready.shift()!);
      open = workers.filter((w) => w.free > 0);
    }
  };

  dispatch();
  while (events.length) {
    const next = events.pop()!;
    now = next.at;
    next.run();
  }
  return outcome;
}

describe('two workers paced by one provider', () => {
  it.each([1, 4, 16, 100])(
    'get a burst of twice the window budget through at concurrency %d, with at most one 429',
    (concurrency) => {
      const bursts = [10, 40].flatMap((callsPerWindow) =>
        [200, 1_000].map((firstByteMs) => ({ concurrency, callsPerWindow, cost: 80, firstByteMs })),
      );
      const outcomes = bursts.flatMap((shape) =>
        Array.from({ length: 60 }, (_, seed) => ({ ...shape, seed, ...burst(seededRandom(seed), shape) })),
      );
      const overrun = outcomes.filter((run) => run.answered !== 2 * run.callsPerWindow || run.refused > 1);
      expect(overrun).toEqual([]);
    },
  );
});

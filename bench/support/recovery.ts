/**
 * Recovery after SIGKILL, the same way for every durable row: one run alone against a model that
 * answers each call after RECOVERY_MODEL_DELAY_MS; once the model has received the run's call of
 * step KILL_STEP (and KILL_AFTER_MS later, the call in flight), the process running the loop is
 * killed with SIGKILL and started again at once, the same way. Measured from the kill:
 *
 * - `restartMs`: until the new process serves again (polls, listens);
 * - `resumeMs`: until the engine sends the interrupted model call again: the run moves on;
 * - `completeMs`: until the run's result (the remaining calls at the model's delay included).
 *
 * `repeatedModelCalls` is the model calls made beyond the work unit's: 1 when only the interrupted
 * call was made again.
 */
import type { ModelProcess } from './model-process';
import { MODEL_CALLS } from './work-unit';

/** The model's delay during a recovery run: long enough to kill the loop inside a call. */
export const RECOVERY_MODEL_DELAY_MS = 1_000;
/** The step (from 1) whose model call is in flight when the loop is killed. */
export const KILL_STEP = 4;
/** How long after the model received that call the loop is killed. */
export const KILL_AFTER_MS = 300;
/** How long a recovery may take before the bench gives up on it. */
const RECOVERY_TIMEOUT_MS = 180_000;

export interface Recovery {
  killedInStep: number;
  modelDelayMs: number;
  restartMs: number;
  resumeMs: number;
  completeMs: number;
  repeatedModelCalls: number;
}

export interface RecoveryTarget {
  /** Runs one run to its end (throws unless it did the work unit). */
  run(): Promise<void>;
  /** SIGKILLs the loop process, starts another; resolves once it serves, with how long that took. */
  killAndRestart(): Promise<{ restartMs: number }>;
}

async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`recovery: ${what} within ${RECOVERY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Times one recovery of `target`, whose model is `model` (delayed by RECOVERY_MODEL_DELAY_MS). */
export async function measureRecovery(model: ModelProcess, target: RecoveryTarget): Promise<Recovery> {
  const before = await model.stats();
  const turn = KILL_STEP - 1;
  const sent = async (times: number) => (await model.stats()).byTurn[turn] - before.byTurn[turn] >= times;
  let finished = false;
  const running = target.run().finally(() => (finished = true));
  running.catch(() => undefined);
  await until(`step ${KILL_STEP}'s model call was not sent`, async () => finished || (await sent(1)));
  if (finished) throw new Error(`recovery: the run ended before step ${KILL_STEP}`);
  await new Promise((resolve) => setTimeout(resolve, KILL_AFTER_MS));
  const killedAt = performance.now();
  const { restartMs } = await target.killAndRestart();
  await until('the interrupted model call was not sent again', async () => finished || (await sent(2)));
  const resumeMs = performance.now() - killedAt;
  await running;
  const completeMs = performance.now() - killedAt;
  const after = await model.stats();
  return {
    killedInStep: KILL_STEP,
    modelDelayMs: RECOVERY_MODEL_DELAY_MS,
    restartMs,
    resumeMs,
    completeMs,
    repeatedModelCalls: after.requests - before.requests - MODEL_CALLS,
  };
}

/**
 * Calls that need the agent's tool definitions (argument checks, regular tool calls) on a worker that
 * registers them. In a mixed fleet (a rolling deploy that adds a tool or an agent, two apps on one
 * queue) a worker without the tool fails the call `ToolNotRegistered`; the run schedules it again,
 * for any worker of the queue, with backoff, until that worker's `UNKNOWN_AGENT_WAIT_SECONDS` passed.
 */
import { sleep } from '@temporalio/workflow';
import type { ToolNotRegisteredDetails } from '../src/activity-contract';
import { ErrorType } from '../src/errors';
import { detailsOf } from '../src/failures';
import type { AgentSpec } from '../src/types';
import { hasPatch, Patch } from './patch-checks';

const FIRST_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

/** How long the worker that failed the call lets others try, if it failed for want of the tool. */
function notRegisteredWaitMs(error: unknown): number | undefined {
  const details = detailsOf<ToolNotRegisteredDetails>(error, ErrorType.ToolNotRegistered);
  return typeof details?.waitMs === 'number' ? details.waitMs : undefined;
}

/**
 * `call()`, scheduled again while a worker without `tool` fails it and the wait that worker allows
 * (counted from the first try, in workflow time) and the run's `deadlineMs` leave room. `eager` says
 * whether Temporal may hand the call to the worker running the run (eager dispatch, for calls of the
 * run's own queue): not when that worker lacks the tool (it failed the call, or another worker
 * resolved the run's spec), or the call would come back to it each time.
 */
export async function onRegisteringWorker<T>(
  spec: AgentSpec,
  tool: string,
  call: (eager: boolean) => Promise<T>,
  deadlineMs?: number,
): Promise<T> {
  const sinceMs = Date.now();
  for (let delayMs = FIRST_DELAY_MS, eager = !spec.resolvedElsewhere; ; delayMs = Math.min(delayMs * 2, MAX_DELAY_MS)) {
    try {
      return await call(eager);
    } catch (error) {
      const waitMs = notRegisteredWaitMs(error);
      const againAtMs = Date.now() + delayMs;
      if (waitMs === undefined || againAtMs - sinceMs > waitMs) throw error;
      if (deadlineMs !== undefined && againAtMs >= deadlineMs) throw error;
      // Runs that started before calls were scheduled again failed them at once.
      if (!hasPatch(spec, Patch.toolCallsWaitForRegisteringWorker)) throw error;
      await sleep(delayMs, { summary: `waiting for a worker that registers tool ${tool}` });
      eager = false;
    }
  }
}

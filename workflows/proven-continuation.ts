/**
 * The check every workflow handed carried state (a second argument) makes before it trusts any of
 * it: the server's own record of how the run started must say it is this workflow's continue-as-new
 * (see `activities/continuation-proof.ts`). A cron run, a workflow retry or a plain start with a
 * forged second argument fails here, before the run does anything.
 */
import { patched, proxyLocalActivities, type ApplicationFailure } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { Patch } from '../src/patches';
import { startFailure } from './run-failures';

const { proveContinuation } = proxyLocalActivities<Activities>({
  summary: 'prove continuation',
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});

/**
 * Throws `refuse(reason)` unless this run is its predecessor's own continue-as-new. Runs that began
 * before the check existed replay without it (their histories hold no proof).
 */
export async function ensureProvenContinuation(refuse: (reason: string) => ApplicationFailure): Promise<void> {
  if (!patched(Patch.provenContinuation)) return;
  let refused: string | undefined;
  try {
    ({ refused } = await proveContinuation());
  } catch (error) {
    throw startFailure(error);
  }
  if (refused) {
    throw refuse(`a second argument (carried state) is accepted only from the run's own continue-as-new: ${refused}`);
  }
}

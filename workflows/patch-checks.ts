/**
 * How the workflow asks whether a run has a change of its command sequence (ids in `src/patches.ts`).
 * A run whose recorded spec lists the change started on code that had it, and records no marker for
 * it: each `patched()` marker costs a run two history events (the marker and the SDK's
 * `TemporalChangeVersion` upsert). Runs started before their spec listed changes ask `patched()`,
 * as their histories expect.
 */
import { patched } from '@temporalio/workflow';
import { Patch, type PatchId } from '../src/patches';
import type { AgentSpec } from '../src/types';

export { Patch } from '../src/patches';

/** Whether this run (of `spec`) has the change `patch`. */
export function hasPatch(spec: Pick<AgentSpec, 'patches'>, patch: PatchId): boolean {
  return spec.patches?.includes(patch) || patched(patch);
}

/**
 * Whether this run has the loop guards: call it only where a guard would change what the run does,
 * so that runs which never reach a guard record no marker.
 */
export function hasLoopGuards(spec: Pick<AgentSpec, 'patches'>): boolean {
  return hasPatch(spec, Patch.loopGuards);
}

/**
 * The Temporal floor: a workflow that runs as many activities, one after another and of the same
 * kinds, as an `agentRun` of the bench's work unit (the spec's resolution, a local activity; 6 model
 * calls and 5 tool calls, regular ones), each a no-op with a small payload. What it costs is the
 * engine's cost, with nothing of the agent runtime.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type * as activities from './activities';

export interface FloorInput {
  /** Activities to run in sequence. */
  activities: number;
  /** How many of them, the first ones, are local activities. */
  local: number;
  /** Size of each activity's input (and output) payload, about. */
  payloadBytes: number;
}

export interface FloorResult {
  activities: number;
}

const regular = proxyActivities<typeof activities>({ startToCloseTimeout: '30s' });
const local = proxyLocalActivities<typeof activities>({ startToCloseTimeout: '30s' });

export async function floorRun({ activities: count, local: locals, payloadBytes }: FloorInput): Promise<FloorResult> {
  const pad = 'x'.repeat(Math.max(0, payloadBytes - 20));
  let done = 0;
  for (let index = 0; index < count; index++) {
    const echoed = await (index < locals ? local : regular).noop({ index, pad });
    if (echoed.index === index) done += 1;
  }
  return { activities: done };
}

/**
 * What a local activity's result records of its input. History holds a local activity's result (in
 * its marker) but not its input, so a local call echoes the part of its input that readers of history
 * (`export`, the worker's rebuild of a transcript) would read in a regular call's scheduled event.
 */
import { Context } from '@temporalio/activity';

/**
 * `result`, with `recorded` added (and how long the call took since `startedAtMs`, which a local
 * call's marker does not say reliably) when the current activity is a local one.
 */
export function withRecordedInput<R extends object, I extends object>(
  result: R,
  recorded: I,
  startedAtMs: number,
): R & { recorded?: I & { durationMs: number } } {
  if (!Context.current().info.isLocal) return result;
  return { ...result, recorded: { ...recorded, durationMs: Date.now() - startedAtMs } };
}

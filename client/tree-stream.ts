/**
 * A run's stream with its sub-agents' streams merged in: each event of a sub-agent's run labelled
 * with `agentPath` (the sub-agents from the run down to it), the run's own unlabelled. A sub-agent's
 * run is followed from the `sub_agent` event of the run that started it (its id is `<run id>/<call
 * id>`, listed by the run's `state`), from its start; the run's ending comes last, once every stream
 * it led to has ended.
 */
import type { RunStreamEvent } from './run-stream';

/** An event of a run's tree: `agentPath` set for a sub-agent's. */
export type TreeStreamEvent = RunStreamEvent & { agentPath?: string[] };

interface Source {
  path?: string[];
  events: AsyncIterator<RunStreamEvent>;
}

/** Merges the stream of `workflowId` (`open`) with those of the sub-agents' runs it tells of, and theirs. */
export async function* treeStream(
  workflowId: string,
  open: (workflowId: string) => AsyncGenerator<RunStreamEvent>,
): AsyncGenerator<TreeStreamEvent> {
  const pending = new Map<Source, Promise<{ source: Source; next: IteratorResult<RunStreamEvent> }>>();
  const followed = new Set<string>([workflowId]);
  const pull = (source: Source) =>
    pending.set(
      source,
      source.events.next().then((next) => ({ source, next })),
    );
  pull({ events: open(workflowId) });
  let ending: TreeStreamEvent | undefined;
  while (pending.size) {
    const { source, next } = await Promise.race(pending.values());
    pending.delete(source);
    if (next.done) continue;
    const event = next.value;
    if ((event.type === 'result' || event.type === 'failure') && !source.path) ending = event;
    else yield source.path ? { ...event, agentPath: source.path } : event;
    if (event.type === 'sub_agent' && !followed.has(event.workflowId)) {
      followed.add(event.workflowId);
      pull({ path: [...(source.path ?? []), event.agent], events: open(event.workflowId) });
    }
    pull(source);
  }
  if (ending) yield ending;
}

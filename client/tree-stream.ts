/**
 * A run's stream with its sub-agents' streams merged in: each event of a sub-agent's run labelled
 * with `agentPath` (the sub-agents from the run down to it), the run's own unlabelled. A sub-agent's
 * run is followed from the tool call that started it (its id is `<run id>/<call id>`), from its
 * start; the run's ending comes last, once every stream it led to has ended.
 */
import type { RunStreamEvent } from './run-stream';

/** An event of a run's tree: `agentPath` set for a sub-agent's. */
export type TreeStreamEvent = RunStreamEvent & { agentPath?: string[] };

interface Source {
  workflowId: string;
  path?: string[];
  events: AsyncIterator<RunStreamEvent>;
}

/** A sub-agent's run as visibility lists it. */
export interface SubAgentRun {
  workflowId: string;
  agent?: string;
}

/**
 * Merges the stream of `workflowId` (`open`) with those of its sub-agents' runs, which `children`
 * lists (Temporal's visibility, asked again at each tool call and result, as it may lag).
 */
export async function* treeStream(
  workflowId: string,
  open: (workflowId: string) => AsyncGenerator<RunStreamEvent>,
  children: (workflowId: string) => Promise<SubAgentRun[]>,
): AsyncGenerator<TreeStreamEvent> {
  const pending = new Map<Source, Promise<{ source: Source; next: IteratorResult<RunStreamEvent> }>>();
  const followed = new Set<string>([workflowId]);
  const pull = (source: Source) =>
    pending.set(
      source,
      source.events.next().then((next) => ({ source, next })),
    );
  const discover = async (parent: Source) => {
    for (const child of await children(parent.workflowId)) {
      if (followed.has(child.workflowId)) continue;
      followed.add(child.workflowId);
      const agent = child.agent ?? child.workflowId.slice(child.workflowId.lastIndexOf('/') + 1);
      pull({ workflowId: child.workflowId, path: [...(parent.path ?? []), agent], events: open(child.workflowId) });
    }
  };
  pull({ workflowId, events: open(workflowId) });
  let ending: TreeStreamEvent | undefined;
  while (pending.size) {
    const { source, next } = await Promise.race(pending.values());
    pending.delete(source);
    if (next.done) continue;
    const event = next.value;
    const ends = event.type === 'result' || event.type === 'failure';
    if (ends && !source.path) ending = event;
    else yield source.path ? { ...event, agentPath: source.path } : event;
    if (event.type === 'tool_call' || event.type === 'tool_result' || ends) await discover(source);
    pull(source);
  }
  if (ending) yield ending;
}

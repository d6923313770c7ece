/**
 * The bench's agent, a plug-in module (`AGENT_MODULES=<abs path>/bench/agent.ts`): agent `bench` with
 * one tool, `lookup`, that answers at once with no I/O. Every row of `npm run bench` runs the same
 * work with it: 6 model calls (5 asking for one `lookup` each, then an answer) and 5 tool calls.
 * It names no model and no local-activity choice: the worker's `AGENT_MODEL` and
 * `LOCAL_ACTIVITIES` decide, so one module serves every row.
 */
import type { PluginApi } from '../src';

export const BENCH_AGENT = 'bench';

export default ({ defineAgent, defineTool, z }: PluginApi) => [
  defineAgent({
    name: BENCH_AGENT,
    description: 'Looks up keys for the benchmark.',
    instructions: 'Look up each key you are asked for with the lookup tool, then say you are done.',
    tools: [
      defineTool({
        name: 'lookup',
        description: 'Returns the value stored under a key.',
        input: z.object({ key: z.string() }),
        execute: ({ key }) => ({ key, value: `v:${key}` }),
      }),
    ],
  }),
];

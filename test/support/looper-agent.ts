/** An agent whose one tool never changes its answer: a model that keeps asking it is stuck. */
import { z } from 'zod';
import { defineAgent } from '../../src/agent';
import { defineTool } from '../../src/tool';

/** `looper`, telling `onCheck` each job its `check_status` tool was run for. */
export function looperAgent(onCheck: (job: number) => void = () => undefined) {
  return defineAgent({
    name: 'looper',
    instructions: 'Check the status until it changes.',
    tools: [
      defineTool({
        name: 'check_status',
        description: 'The status of a job (it never changes).',
        input: z.object({ job: z.number() }),
        execute: ({ job }) => {
          onCheck(job);
          return { status: 'pending' };
        },
      }),
    ],
  });
}

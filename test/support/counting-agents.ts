/**
 * A sub-agent with an output schema (`counter`) and a lead that asks it (`planner`): the sub-agent
 * tests, and the history of a counter that fails, use the same pair.
 */
import { z } from 'zod';
import { defineAgent } from '../../src/agent';

export const counter = defineAgent({
  name: 'counter',
  description: 'Counts things.',
  instructions: 'You count.',
  tools: [],
  output: z.object({ count: z.number() }),
});

export const planner = defineAgent({ name: 'planner', instructions: 'You plan.', tools: [], agents: [counter] });

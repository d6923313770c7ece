// A plug-in agent module for the tracing test (test/integration/tracing.test.ts): a quick tool, and
// the recovery agent's slow step, whose first attempt runs until its worker is killed; and a lead
// agent that calls the first as its sub-agent.
import type { PluginApi } from '../../src';
import recoveryAgents from './recovery-agent';

export default (api: PluginApi) => {
  const slowStep = recoveryAgents(api)
    .flatMap((agent) => agent.tools)
    .find((tool) => tool.name === 'slow_step')!;
  return [
    api.defineAgent({
      name: 'traced',
      description: 'Looks words up.',
      instructions: 'Look words up, and run the slow step when asked.',
      tools: [
        api.defineTool({
          name: 'lookup',
          description: 'Looks a word up.',
          input: api.z.object({ word: api.z.string() }),
          execute: ({ word }) => ({ word, found: true }),
        }),
        slowStep,
      ],
    }),
    // A lead whose sub-agent is the agent above: one trace spans the tree.
    api.defineAgent({ name: 'tracedLead', instructions: 'You lead the tracing.', tools: [], agents: ['traced'] }),
  ];
};

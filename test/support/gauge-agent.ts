// A plug-in agent module for the fleet test's approvals gauge (test/integration/fleet.test.ts): an
// agent no other test runs, so the gauge, which counts a namespace's waiting runs of an agent, counts
// only the test's own run while other test files share the dev server.
import type { PluginApi } from '../../src';

export default ({ defineAgent, defineTool, z }: PluginApi) => [
  defineAgent({
    name: 'gauged',
    instructions: 'Pay the refund when asked; a person approves it.',
    tools: [
      defineTool({
        name: 'pay_refund',
        description: 'Pays a refund (a person approves it).',
        input: z.object({ orderId: z.string() }),
        requiresApproval: true,
        execute: ({ orderId }) => ({ paid: orderId }),
      }),
    ],
  }),
];

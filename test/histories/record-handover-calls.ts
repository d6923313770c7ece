/**
 * Records two task runs handed over in a mixed fleet (as `record-spec-handover.ts`) into
 * `v13-handover-calls/`: the worker running them lacks their agents, the one that resolves their specs
 * runs tools locally. Billing's local tool call fails `ToolNotRegistered` where the run runs and is
 * made again as a regular activity; triage's handoff to billing is resolved on the other worker too.
 * `npx tsx test/histories/record-handover-calls.ts`
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { defineAgent } from '../../src/agent';
import { pluginApi } from '../../src/plugin-api';
import { AgentRegistry } from '../../src/registry';
import { reply } from '../../testing';
import handoffAgents, { actingAgent } from '../support/handoff-agents';
import { recordHistories } from './saved-histories';

const queue = { TASK_QUEUE: `handover-${randomUUID()}` };
const other = defineAgent({ name: 'shop', instructions: 'Answer about orders.', tools: [] });

recordHistories({
  folder: join(__dirname, 'v13-handover-calls'),
  // Triage transfers; billing looks the invoice up, then answers (at once, after a transfer).
  script: (request) => {
    if (actingAgent(request) === 'triage') return reply.tools([{ name: 'transfer_to_billing', args: {} }]);
    if (request.messages.at(-1)?.role === 'tool') return reply.text('billing: answered.');
    return reply.tools([{ name: 'lookup_invoice', args: { invoice: '7' } }]);
  },
  workers: {
    without: { env: queue, registry: new AgentRegistry().add([other], 'test') },
    with: {
      env: { ...queue, LOCAL_ACTIVITIES: 'tools' },
      registry: new AgentRegistry().add(handoffAgents(pluginApi), 'handoff-agents'),
      late: true,
    },
  },
  scenarios: {
    // Both start before the worker with their agents does: their first tasks are the other worker's.
    'task-handed-over': async (start) => {
      const runs = await Promise.all([
        start({ agent: 'billing', message: 'invoice 7: was it paid?' }, 'local-tool'),
        start({ agent: 'triage', message: 'invoice 7: was it paid?' }, 'handoff'),
      ]);
      return Promise.all(runs.map((handle) => handle.result()));
    },
  },
});

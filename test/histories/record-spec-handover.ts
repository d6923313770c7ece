/**
 * Records a task run whose first workflow task a worker without its agent took (a mixed fleet, one
 * task queue) into `v12-spec-handover/`: that worker's local spec resolution fails
 * `AgentNotOnThisWorker`, and the spec is resolved by a regular activity of the queue, which the worker
 * with the agent, started after the run, takes.
 * `npx tsx test/histories/record-spec-handover.ts`
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { reply } from '../../testing';
import { finishedRun, recordHistories } from './saved-histories';

const queue = { TASK_QUEUE: `handover-${randomUUID()}` };
const other = defineAgent({ name: 'shop', instructions: 'Answer about orders.', tools: [] });

recordHistories({
  folder: join(__dirname, 'v12-spec-handover'),
  script: () => reply.text('Resolved elsewhere, answered here.'),
  workers: {
    without: { env: queue, registry: new AgentRegistry().add([other], 'test') },
    with: { env: queue, late: true },
  },
  scenarios: {
    'task-spec-resolved-elsewhere': finishedRun({ agent: 'helpdesk', message: 'Who resolves my spec?' }),
  },
});

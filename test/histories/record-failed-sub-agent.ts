/**
 * Records a tree whose sub-agent fails into `v14-failed-sub-agent-usage/` (`npx tsx
 * test/histories/record-failed-sub-agent.ts`): the planner calls counter, whose answers never fit its
 * output schema, so counter fails `OutputInvalid` in the task that took its last answer; its failure
 * carries what it spent and the planner counts it. Every run of the tree is saved.
 */
import { join } from 'node:path';
import { AgentRegistry } from '../../src/registry';
import { reply } from '../../testing';
import { counter, planner } from '../support/counting-agents';
import { finishedRun, recordHistories, saveTree } from './saved-histories';

recordHistories({
  folder: join(__dirname, 'v14-failed-sub-agent-usage'),
  script: (request) => {
    if (request.messages[0].content === counter.instructions)
      return reply.text('about three', { input: 100, output: 10 });
    return request.messages.some((message) => message.role === 'tool')
      ? reply.text('Told what counter said.', { input: 300, output: 30 })
      : reply.tools([{ name: 'counter', args: { message: 'count the otters' } }], { input: 200, output: 20 });
  },
  workers: { worker: { registry: new AgentRegistry().add([planner], 'test') } },
  scenarios: { 'failed-sub-agent': finishedRun({ agent: 'planner', message: 'How many otters?' }) },
  save: saveTree,
});

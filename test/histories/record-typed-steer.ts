/**
 * Records the histories of structured output and steering into v9-typed-steer/ (npx tsx
 * test/histories/record-typed-steer.ts): an output repaired once (response_format), one through the
 * `answer` tool, a steer joining a turn at its next step, and one carried across continue-as-new.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { steerUpdate } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { eventually } from '../support/eventually';
import { byTurn, lastOf, reply, turnOf, type Script } from '../../testing';
import { finishedRun, recordHistories, type ScenarioRun } from './saved-histories';

const STEER = 'use order 1043 instead';

let lookupsRunning = 0;
const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Look up an order.',
  input: z.object({ orderId: z.string() }),
  async execute({ orderId }) {
    lookupsRunning += 1;
    await sleep(2_000);
    lookupsRunning -= 1;
    return `order ${orderId}: shipped`;
  },
});
const refund = z.object({ refundId: z.string(), amountUsd: z.number() });
const agents = [
  defineAgent({ name: 'refunds', instructions: 'Decide refunds.', tools: [], output: refund }),
  defineAgent({
    name: 'refunds-by-tool',
    instructions: 'Decide refunds.',
    tools: [],
    output: refund,
    structuredOutput: false,
  }),
  defineAgent({ name: 'orders', instructions: 'Answer about orders.', tools: [lookupOrder] }),
];

const VALID = { refundId: 'r-1042', amountUsd: 129 };
const script: Script = (request, index) => {
  const asked = request.messages.find((message) => message.role === 'user')?.content ?? '';
  if (asked.startsWith('json'))
    return byTurn([reply.text('{"refundId": "r-1042"}'), reply.text(JSON.stringify(VALID))])(request, index);
  if (asked.startsWith('tool')) {
    return byTurn([
      reply.tools([{ name: 'answer', args: { refundId: 'r-1042', amountUsd: '129' } }]),
      reply.tools([{ name: 'answer', args: VALID }]),
    ])(request, index);
  }
  if (turnOf(request) === 0) return reply.tools([{ name: 'lookup_order', args: { orderId: '1042' } }]);
  return reply.text(lastOf(request, 'user')?.content === STEER ? 'Order 1043, then.' : 'Order 1042 has shipped.');
};

/** Steers the lookup of order 1042 to order 1043 while the lookup runs. */
const steered: ScenarioRun = async (start) => {
  const handle = await start({ agent: 'orders', message: 'where is order 1042?' });
  await eventually(async () => lookupsRunning > 0, 'the lookup to start');
  await handle.executeUpdate(steerUpdate, { args: [{ text: STEER }] });
  await handle.result();
};

const registry = new AgentRegistry().add(agents, 'record-typed-steer');
recordHistories({
  folder: join(__dirname, 'v9-typed-steer'),
  script,
  workers: {
    worker: { registry },
    // Continues as new between steps as soon as that pays: the steer is carried to the continuation.
    continuing: { env: { CONTINUE_AS_NEW_AT_BYTES: '1' }, registry },
  },
  scenarios: {
    'task-output-repaired': finishedRun({ agent: 'refunds', message: 'json: refund order 1042' }),
    'task-output-answer-tool': finishedRun({ agent: 'refunds-by-tool', message: 'tool: refund order 1042' }),
    'task-steered': steered,
    'task-steer-continued': { on: 'continuing', run: steered },
  },
});

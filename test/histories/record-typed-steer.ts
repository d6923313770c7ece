/**
 * Records the histories of structured output and steering into v9-typed-steer/ (npx tsx
 * test/histories/record-typed-steer.ts): an output repaired once (response_format), one through the
 * `answer` tool, a steer joining a turn at its next step, and one carried across continue-as-new.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { steerUpdate } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { startDevServer, stopDevServer } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { startTestWorker } from '../support/harness';
import { byTurn, lastOf, reply, startScriptedModel, turnOf, type Script } from '../../testing';
import { saveChain } from './saved-histories';

const FOLDER = join(__dirname, 'v9-typed-steer');
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

async function main(): Promise<void> {
  if (existsSync(FOLDER)) throw new Error(`${FOLDER} exists: record into a new folder, keep the old histories`);
  mkdirSync(FOLDER);
  const server = await startDevServer();
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_TMP_DIR = tmpdir();
  const model = await startScriptedModel(script);
  const registry = new AgentRegistry().add(agents, 'record-typed-steer');
  const base = { OPENAI_BASE_URL: model.baseUrl, WORKFLOW_BUNDLE: undefined };
  const worker = await startTestWorker(base, registry);
  // Continues as new between steps as soon as that pays: the steer is carried to the continuation.
  const continuing = await startTestWorker({ ...base, CONTINUE_AS_NEW_AT_BYTES: '1' }, registry);
  const steered = async (on: typeof worker, name: string) => {
    const handle = await on.start({ agent: 'orders', message: 'where is order 1042?' }, `history-${name}`);
    await eventually(async () => lookupsRunning > 0, 'the lookup to start');
    await handle.executeUpdate(steerUpdate, { args: [{ text: STEER }] });
    await handle.result();
    saveChain(server.address, FOLDER, name, handle.workflowId);
  };
  try {
    for (const [name, agent, message] of [
      ['task-output-repaired', 'refunds', 'json: refund order 1042'],
      ['task-output-answer-tool', 'refunds-by-tool', 'tool: refund order 1042'],
    ]) {
      const handle = await worker.start({ agent, message }, `history-${name}`);
      await handle.result();
      saveChain(server.address, FOLDER, name, handle.workflowId);
    }
    await steered(worker, 'task-steered');
    await steered(continuing, 'task-steer-continued');
  } finally {
    await continuing.stop();
    await worker.stop();
    await model.close();
    await stopDevServer(server.process);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

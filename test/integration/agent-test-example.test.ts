import { defineAgent, defineTool, z } from '../../src';
import { byTurn, reply, startAgentTest } from '../../testing';

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Finds an order by id',
  input: z.object({ id: z.string() }),
  execute: ({ id }) => ({ id, status: 'late' }),
});
const refund = defineTool({
  name: 'refund',
  description: 'Refunds an order',
  input: z.object({ id: z.string() }),
  requiresApproval: true,
  execute: ({ id }) => ({ id, refunded: true }),
});
const support = defineAgent({ name: 'support', instructions: 'Help with orders.', tools: [lookupOrder, refund] });

it('looks the order up, refunds it once a person approves, and says so', async () => {
  const test = await startAgentTest({
    agents: [support],
    script: byTurn([
      reply.tools([
        { name: 'lookup_order', args: { id: '7' } },
        { name: 'refund', args: { id: '7' } },
      ]),
      reply.text('Order 7 was late: refunded.'),
    ]),
  });
  try {
    const id = await test.client.start({ agent: 'support', message: 'Where is order 7?' });
    const toolResults: unknown[] = [];
    for await (const event of test.client.stream(id)) {
      if (event.type === 'approval') {
        expect(await test.client.decide(id, { callId: event.callId, approve: true })).toBe('approved refund (1.2)');
      }
      if (event.type === 'tool_result') toolResults.push(JSON.parse(event.content));
    }
    expect(toolResults).toEqual([
      { id: '7', status: 'late' },
      { id: '7', refunded: true },
    ]);
    expect(await test.client.result(id)).toMatchObject({ status: 'completed', output: 'Order 7 was late: refunded.' });
  } finally {
    await test.close();
  }
});

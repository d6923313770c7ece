/**
 * `USAGE_ATTRIBUTES=with-status` (issue #29): a run writes its usage search attributes only with its
 * status, in the same upsert, never after a model call alone; what it writes is its usage at that
 * moment, so a run that waits or has ended shows its true usage in visibility. The choice is recorded
 * in the run's spec.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { chatUpdate, endSignal, searchAttributes, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { byTurn, reply } from '../../testing';
import { eventually } from '../support/eventually';
import { useScriptedWorker } from '../support/harness';
import { recordedSpec } from '../support/history';

const EventType = temporal.api.enums.v1.EventType;
type Handle = Awaited<ReturnType<(typeof setup)['worker']['start']>>;

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks an order up.',
  input: z.object({ id: z.string() }),
  execute: ({ id }) => ({ id, status: 'shipped' }),
});
const agent = defineAgent({ name: 'counted', instructions: 'Answer.', tools: [lookup] });
const setup = useScriptedWorker({ USAGE_ATTRIBUTES: 'with-status' }, new AgentRegistry().add([agent], 'test'));

/** Each search-attribute upsert of the run's history, its attributes decoded. */
async function upserts(handle: Handle): Promise<Record<string, unknown>[]> {
  const { events } = await handle.fetchHistory();
  return events!
    .filter((event) => event.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES)
    .map((event) => {
      const fields = event.upsertWorkflowSearchAttributesEventAttributes!.searchAttributes!.indexedFields!;
      return Object.fromEntries(
        Object.entries(fields).map(([name, payload]) => [name, defaultPayloadConverter.fromPayload(payload)]),
      );
    });
}

const USAGE_NAMES = [searchAttributes.agentSteps.name, searchAttributes.agentTokens.name];

describe('USAGE_ATTRIBUTES=with-status', () => {
  it('writes a task run’s usage only with its status: once, as it ends, and true', async () => {
    setup.script = byTurn([
      reply.tools([{ name: 'lookup', args: { id: '1' } }], { input: 100, output: 10 }),
      reply.tools([{ name: 'lookup', args: { id: '2' } }], { input: 200, output: 20 }),
      reply.text('Both shipped.', { input: 300, output: 30 }),
    ]);
    const handle = await setup.worker.start({ agent: 'counted', message: 'Orders 1 and 2?' });
    const result = await handle.result();
    expect(result.usage.totalTokens).toBe(660);
    expect((await recordedSpec(handle)).usageAttributes).toBe('with-status');

    const written = await upserts(handle);
    const withUsage = written.filter((fields) => USAGE_NAMES.some((name) => name in fields));
    // Three model calls, no upsert of their own: the usage comes once, with the final status.
    expect(withUsage).toEqual([expect.objectContaining({ AgentStatus: 'completed', AgentSteps: 3, AgentTokens: 660 })]);
    const attributes = (await handle.describe()).typedSearchAttributes;
    expect(attributes.get(searchAttributes.agentTokens)).toBe(660);
    expect(attributes.get(searchAttributes.agentSteps)).toBe(3);
  });

  it('a session waiting for its next message shows the usage of its turns so far', async () => {
    setup.script = () => reply.text('Hello.', { input: 40, output: 2 });
    const handle = await setup.worker.start({ agent: 'counted', message: 'Hi', mode: 'session' });
    await eventually(
      async () =>
        (await handle.describe()).typedSearchAttributes.get(searchAttributes.agentStatus) === 'awaiting_input' ||
        undefined,
      'the session to wait for its next message',
    );
    expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.agentTokens)).toBe(42);
    await handle.executeUpdate(chatUpdate, { args: [{ text: 'Again' }] });
    await eventually(
      async () => (await handle.describe()).typedSearchAttributes.get(searchAttributes.agentTokens) === 84 || undefined,
      'the second turn’s usage in visibility',
    );
    expect((await handle.query(stateQuery)).usage.totalTokens).toBe(84);
    await handle.signal(endSignal);
    await handle.result();
    const withUsage = (await upserts(handle)).filter((fields) => USAGE_NAMES.some((name) => name in fields));
    expect(withUsage.every((fields) => searchAttributes.agentStatus.name in fields)).toBe(true);
  });
});

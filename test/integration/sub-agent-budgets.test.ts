/**
 * One budget for the tree (issue #25): sub-agents that would spend without end get what their parent
 * has left, split between those of one answer, so the tokens (or dollars) the model server reports
 * for the whole tree stay within the root's budget, and the root ends `limit_reached` with its wrap-up.
 */
import { z } from 'zod';
import { searchAttributes } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { lastOf, reply, turnOf, type ModelRequest } from '../../testing';
import { useScriptedWorker } from '../support/harness';

const spender = defineAgent({
  name: 'spender',
  description: 'Researches without end.',
  instructions: 'You are the spender.',
  tools: [
    defineTool({
      name: 'research',
      description: 'Looks one topic up.',
      input: z.object({ topic: z.string() }),
      execute: ({ topic }) => ({ finding: `notes on ${topic}` }),
    }),
  ],
});
const lead = defineAgent({ name: 'lead', instructions: 'You are the lead.', tools: [], agents: [spender] });

const setup = useScriptedWorker({}, new AgentRegistry().add([lead], 'test'));

const isWrapUp = (request: ModelRequest) =>
  /^\[The run's \w+ budget is nearly spent/.test(lastOf(request, 'user')?.content ?? '');
const WRAP_UP = 'Partial: what the spenders found so far.';

/** Every agent spends every step (the lead on two spenders at once) and answers only its wrap-up; `spent` adds up what the server reported. */
function spendForever(usage: { input: number; output: number }) {
  const spent = { tokens: 0, calls: 0 };
  const script = (request: ModelRequest) => {
    spent.tokens += usage.input + usage.output;
    spent.calls += 1;
    if (isWrapUp(request)) return reply.text(WRAP_UP, usage);
    const step = turnOf(request);
    if (/You are the lead/.test(request.messages[0].content as string)) {
      return reply.tools(
        [
          { name: 'spender', args: { message: `study part A${step}` } },
          { name: 'spender', args: { message: `study part B${step}` } },
        ],
        usage,
      );
    }
    return reply.tools([{ name: 'research', args: { topic: `topic ${step}` } }], usage);
  };
  return { spent, script };
}

describe('the root budget bounds the tree', () => {
  it('maxTokens: what the server reports for the tree stays within it; the root wraps up', async () => {
    const { spent, script } = spendForever({ input: 300, output: 50 });
    setup.script = script;
    const handle = await setup.worker.start({ agent: 'lead', message: 'Study', limits: { maxTokens: 8_000 } });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxTokens', output: WRAP_UP });
    expect(spent.tokens).toBeLessThanOrEqual(8_000);
    // The children did spend (each of several steps), and the root's usage is all of it.
    expect(spent.calls).toBeGreaterThan(6);
    expect(result.usage.totalTokens).toBe(spent.tokens);
    expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.agentTokens)).toBe(spent.tokens);
  });

  it('maxCostUsd with concurrent children: within it, and the root wraps up', async () => {
    // gpt-4o-mini: $0.15 in and $0.60 out per million tokens, so $0.000075 a call.
    const { spent, script } = spendForever({ input: 300, output: 50 });
    setup.script = script;
    const handle = await setup.worker.start({ agent: 'lead', message: 'Study', limits: { maxCostUsd: 0.0015 } });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxCostUsd', output: WRAP_UP });
    expect(spent.calls * 0.000075).toBeLessThanOrEqual(0.0015);
    expect(spent.calls).toBeGreaterThan(6);
    expect(result.usage.costUsd).toBeCloseTo(spent.calls * 0.000075, 10);
  });
});

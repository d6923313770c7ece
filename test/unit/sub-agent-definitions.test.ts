/**
 * Sub-agent definitions (issue #25): what `defineAgent` refuses at once, and what a worker refuses at
 * start, once every agent module is loaded.
 */
import { defineAgent, type AgentConfig } from '../../src/agent';
import { DefinitionError } from '../../src/errors';
import { AgentRegistry } from '../../src/registry';
import { checkSubAgentTree, subAgentSpecs } from '../../src/sub-agent-definitions';
import { defineTool } from '../../src/tool';
import { z } from 'zod';

const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a thing up.',
  input: z.object({ q: z.string() }),
  execute: () => 'found',
});
const base = (name: string, extra: Partial<AgentConfig> = {}): AgentConfig => ({
  name,
  instructions: `You are ${name}.`,
  tools: [],
  ...extra,
});
const researcher = defineAgent(base('researcher', { description: 'Finds facts.' }));

/** Checks a worker's agents as it does at start. */
const workerWith = (...agents: ReturnType<typeof defineAgent>[]) =>
  checkSubAgentTree(new AgentRegistry().add(agents, 'test'));

describe('defineAgent with sub-agents', () => {
  it.each<[string, Partial<AgentConfig>, RegExp]>([
    ['not a list', { agents: 'researcher' as never }, /agents must be a list/],
    ['something else listed', { agents: [42 as never] }, /not 42/],
    ['a name the model could not call', { agents: ['re.searcher'] }, /must match/],
    ['a definition without a description', { agents: [defineAgent(base('quiet'))] }, /"quiet" needs a description/],
    ['the same one twice', { agents: [researcher, 'researcher'] }, /lists "researcher" twice/],
    ['the name of one of its tools', { tools: [lookup], agents: ['lookup'] }, /the name of a tool/],
    ['a memory tool name', { memory: true, agents: ['remember'] }, /the name of a tool/],
    ['a description too long', { description: 'x'.repeat(2_049) }, /at most 2048/],
    ['an unknown option', { agent: [researcher] } as never, /unknown option "agent" \(did you mean "agents"\?\)/],
    ['a maxDepth out of range', { limits: { maxDepth: 99 } }, /limits: maxDepth/],
  ])('refuses %s', (_what, extra, message) => {
    expect(() => defineAgent(base('lead', extra))).toThrow(DefinitionError);
    expect(() => defineAgent(base('lead', extra))).toThrow(message);
  });
});

describe('a worker with sub-agents, at start', () => {
  it('registers a sub-agent given inline, and records names and descriptions in the spec', () => {
    const lead = defineAgent(base('lead', { agents: [researcher] }));
    const registry = new AgentRegistry().add([lead, researcher], 'test');
    expect(registry.names()).toEqual(['lead', 'researcher']);
    expect(subAgentSpecs(lead, registry)).toEqual({
      subAgents: [{ name: 'researcher', description: 'Finds facts.' }],
    });
    expect(subAgentSpecs(researcher, registry)).toEqual({});
  });

  it('says where each agent of a tree comes from: its module, and the one agent that lists it', () => {
    const clerk = defineAgent(base('clerk', { description: 'Files things.' }));
    const middle = defineAgent(base('middle', { description: 'Delegates.', agents: [clerk] }));
    const typed = defineAgent(base('typed', { description: 'Answers in JSON.' }));
    const lead = defineAgent(base('lead', { agents: [researcher, middle, typed] }));
    const registry = new AgentRegistry().add([lead], '/tmp/x/tree.mjs');
    expect(Object.fromEntries(registry.entries().map(({ agent, source }) => [agent.name, source]))).toEqual({
      clerk: '/tmp/x/tree.mjs (sub-agent of "middle")',
      lead: '/tmp/x/tree.mjs',
      middle: '/tmp/x/tree.mjs (sub-agent of "lead")',
      researcher: '/tmp/x/tree.mjs (sub-agent of "lead")',
      typed: '/tmp/x/tree.mjs (sub-agent of "lead")',
    });
  });

  it('refuses a name no module registers, and a named sub-agent without a description', () => {
    expect(() => workerWith(defineAgent(base('lead', { agents: ['writer'] })))).toThrow(
      /lists sub-agent "writer", which no agent module registers; registered: lead/,
    );
    expect(() => workerWith(defineAgent(base('lead', { agents: ['plain'] })), defineAgent(base('plain')))).toThrow(
      /sub-agent "plain", which has no description/,
    );
  });

  it('refuses an agent that reaches itself without maxDepth, directly or round a cycle', () => {
    const selfish = defineAgent(base('selfish', { description: 'Asks itself.', agents: ['selfish'] }));
    expect(() => workerWith(selfish)).toThrow(/"selfish" reaches itself through its sub-agents \(selfish → selfish\)/);
    const ping = defineAgent(base('ping', { description: 'Pings.', agents: ['pong'] }));
    const pong = defineAgent(base('pong', { description: 'Pongs.', agents: ['ping'], limits: { maxDepth: 2 } }));
    expect(() => workerWith(ping, pong)).toThrow(/\(ping → pong → ping\): set limits.maxDepth/);
    const bounded = defineAgent(base('ping', { description: 'Pings.', agents: ['pong'], limits: { maxDepth: 2 } }));
    expect(() => workerWith(bounded, pong)).not.toThrow();
  });
});

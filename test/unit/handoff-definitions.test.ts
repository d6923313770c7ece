/**
 * Handoffs are checked strictly: `defineAgent` refuses a malformed list, a transfer tool that would
 * clash or be invalid, and a bad description; a worker refuses to start when a handoff names an agent
 * it does not register (or another definition of that name), or one without a description.
 */
import { z } from 'zod';
import { defineAgent, type AgentConfig, type AgentDefinition } from '../../src/agent';
import { loadWorkerConfig } from '../../src/config';
import { DefinitionError } from '../../src/errors';
import { checkHandoffTargets, handoffModelTools, handoffSpecs } from '../../src/handoff-targets';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { createAgentWorker } from '../../runtime/create-worker';
import { thrown } from '../support/thrown';

const lookup = defineTool({
  name: 'lookup_invoice',
  description: 'An invoice.',
  input: z.object({ invoice: z.string() }),
  execute: () => 'paid',
});

function agent(overrides: Partial<AgentConfig> = {}): AgentDefinition {
  return defineAgent({ name: 'triage', instructions: 'Route customers.', tools: [], ...overrides });
}
const billing = agent({ name: 'billing', description: 'Invoices and payments.', tools: [lookup] });

const definitionError = (run: () => unknown) => thrown(DefinitionError, run).message;

describe('defineAgent with handoffs', () => {
  it.each<[string, Partial<AgentConfig>, string]>([
    [
      'a list of something else',
      { handoffs: [42] as never },
      'agent "triage": handoffs must be a list of agents (defineAgent(...) results) or agent names',
    ],
    [
      'a name agents cannot have',
      { handoffs: ['bill ing'] },
      'agent "triage": handoffs must be a list of agents (defineAgent(...) results) or agent names',
    ],
    ['not a list', { handoffs: billing as never }, 'agent "triage": handoffs must be a list'],
    ['itself', { handoffs: ['triage'] }, 'agent "triage": an agent cannot hand off to itself'],
    [
      'the same agent twice',
      { handoffs: [billing, 'billing'] },
      'agent "triage": handoffs name two agents whose transfer tool is "transfer_to_billing"',
    ],
    [
      'two agents whose names make one tool name',
      { handoffs: ['bill.ing', 'bill_ing'] },
      'agent "triage": handoffs name two agents whose transfer tool is "transfer_to_bill_ing"',
    ],
    [
      'an agent whose transfer tool name would be too long',
      { handoffs: ['b'.repeat(60)] },
      `agent "triage": the transfer tool "transfer_to_${'b'.repeat(60)}" is longer than 64 characters`,
    ],
    [
      'a tool named as a transfer tool',
      {
        handoffs: [billing],
        tools: [
          defineTool({ name: 'transfer_to_billing', description: 'Money.', input: z.object({}), execute: () => 'ok' }),
        ],
      },
      'agent "triage": the tool "transfer_to_billing" has the name of a handoff\'s transfer tool: rename the tool',
    ],
    [
      'a description that is not text',
      { description: 7 as never },
      'agent "triage": description must be a non-empty string',
    ],
    [
      'a sub-agent named as a transfer tool',
      { handoffs: [billing], agents: [agent({ name: 'transfer_to_billing', description: 'Money.' })] },
      'agent "triage": the sub-agent "transfer_to_billing" has the name of a handoff\'s transfer tool: rename one',
    ],
    [
      'a description past 2 KiB',
      { description: 'é'.repeat(1_025) },
      'agent "triage": description is 2050 bytes, at most 2048',
    ],
  ])('refuses %s', (_case, overrides, message) => {
    expect(definitionError(() => agent(overrides))).toContain(message);
  });

  it('takes definitions and names, and records each target with its transfer tool and description', () => {
    const refunds = agent({ name: 'refunds.desk', description: 'Refunds.' });
    const triage = agent({ handoffs: [billing, 'refunds.desk'] });
    const registry = new AgentRegistry().add([triage, billing, refunds], 'test');
    expect(() => checkHandoffTargets(registry)).not.toThrow();
    const spec = handoffSpecs(triage, registry);
    expect(spec).toEqual({
      handoffs: [
        { agent: 'billing', tool: 'transfer_to_billing', description: 'Invoices and payments.' },
        { agent: 'refunds.desk', tool: 'transfer_to_refunds_desk', description: 'Refunds.' },
      ],
    });
    expect(handoffModelTools(spec).map((tool) => tool.name)).toEqual([
      'transfer_to_billing',
      'transfer_to_refunds_desk',
    ]);
    // An agent without handoffs records none: its spec is as it was.
    expect(handoffSpecs(billing, registry)).toEqual({});
  });
});

describe('a worker with handoffs', () => {
  it.each<[string, AgentDefinition[], string]>([
    [
      'to an agent it does not register, with the name meant',
      [agent({ handoffs: ['biling'] }), billing],
      'test: agent "triage" hands off to "biling", which this worker does not register (did you mean "billing"? ' +
        'its agents: billing, triage): register "biling" on the same workers',
    ],
    [
      'to a definition other than the one registered under its name',
      [agent({ handoffs: [agent({ name: 'billing', description: 'Another.' })] }), billing],
      'test: agent "triage" hands off to "billing", but the agent registered under that name is another definition',
    ],
    [
      'to an agent without a description',
      [agent({ handoffs: ['billing'] }), agent({ name: 'billing' })],
      'test: agent "triage" hands off to "billing", which has no description: give "billing" a description',
    ],
  ])('refuses to start with a handoff %s', async (_case, agents, message) => {
    const registry = new AgentRegistry().add(agents, 'test');
    expect(definitionError(() => checkHandoffTargets(registry))).toContain(message);
    // At start, before it connects anywhere.
    const config = loadWorkerConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', WORKFLOW_BUNDLE: 'none.js' });
    await expect(createAgentWorker(config, registry)).rejects.toThrow(message);
  });
});

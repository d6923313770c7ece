/**
 * The example agents that ship with the project, by the name `AGENT_MODULES` gives them. No worker
 * registers one unless asked to (runtime/agent-modules.ts): `AGENT_MODULES=helpdesk`, or a worker on
 * the offline demo model (the demo, `dev`, `--offline`), whose scripted conversation is the helpdesk's.
 */
import type { AgentDefinition } from '../src';
import { createFileHelpdeskBackend, createHelpdeskAgent } from './helpdesk';

export interface ExampleAgentOptions {
  /** Where the helpdesk records its refunds (env `HELPDESK_LEDGER`). */
  helpdeskLedger: string;
}

const EXAMPLES: Record<string, (options: ExampleAgentOptions) => AgentDefinition[]> = {
  helpdesk: ({ helpdeskLedger }) => [createHelpdeskAgent(createFileHelpdeskBackend({ ledgerPath: helpdeskLedger }))],
};

/** The names `AGENT_MODULES` may give in place of a module path. */
export const EXAMPLE_AGENT_NAMES: readonly string[] = Object.keys(EXAMPLES);

/** The example agents called `name`, or undefined when no example has that name. */
export function exampleAgents(name: string, options: ExampleAgentOptions): AgentDefinition[] | undefined {
  return Object.hasOwn(EXAMPLES, name) ? EXAMPLES[name](options) : undefined;
}

/**
 * The agents every worker registers before any plug-in module: the examples that ship with the project.
 */
import type { AgentDefinition } from '../src';
import { createFileHelpdeskBackend, createHelpdeskAgent } from './helpdesk';

export function builtInAgents(options: { helpdeskLedger: string }): AgentDefinition[] {
  return [createHelpdeskAgent(createFileHelpdeskBackend({ ledgerPath: options.helpdeskLedger }))];
}

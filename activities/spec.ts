/**
 * Resolves an agent's spec at run start; the result is recorded in history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../src/errors';
import type { AgentRegistry } from '../src/registry';
import type { PriceTable } from '../src/pricing';
import { resolveSpec } from '../src/spec';
import type { AgentSpec, ModelCallPolicy } from '../src/types';

export interface SpecActivityDeps {
  registry: AgentRegistry;
  defaultModel: string;
  modelCall: ModelCallPolicy;
  transcriptMaxBytes: number;
  prices: PriceTable;
}

export function createSpecActivities({
  registry,
  defaultModel,
  modelCall,
  transcriptMaxBytes,
  prices,
}: SpecActivityDeps) {
  return {
    async resolveAgentSpec(input: { agent: string; model?: string; fallbackModels?: string[] }): Promise<AgentSpec> {
      const agent = registry.get(input.agent);
      if (!agent) {
        throw ApplicationFailure.nonRetryable(
          `unknown agent "${input.agent}"; known agents: ${registry.names().join(', ') || '(none)'}`,
          ErrorType.UnknownAgent,
        );
      }
      return resolveSpec(agent, { ...input, defaultModel, modelCall, transcriptMaxBytes, prices });
    },
  };
}

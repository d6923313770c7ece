/**
 * Resolves an agent's spec at run start; the result is recorded in history.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../src/errors';
import type { AgentRegistry } from '../src/registry';
import { PATCHES_IN_SPEC } from '../src/patches';
import { resolveSpec, type SpecOptions } from '../src/spec';
import type { AgentSpec } from '../src/types';

/** The registry, and the worker's settings that a spec records. */
export type SpecActivityDeps = { registry: AgentRegistry } & Omit<SpecOptions, 'model' | 'fallbackModels'>;

export function createSpecActivities({ registry, ...settings }: SpecActivityDeps) {
  return {
    async resolveAgentSpec(input: { agent: string; model?: string; fallbackModels?: string[] }): Promise<AgentSpec> {
      const agent = registry.get(input.agent);
      if (!agent) {
        throw ApplicationFailure.nonRetryable(
          `unknown agent "${input.agent}"; known agents: ${registry.names().join(', ') || '(none)'}`,
          ErrorType.UnknownAgent,
        );
      }
      // This worker's workflow code runs the run (the spec is resolved by a local activity): it has these changes.
      return { ...resolveSpec(agent, { ...input, ...settings }), patches: [...PATCHES_IN_SPEC] };
    },
  };
}

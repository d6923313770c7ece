/**
 * Resolves an agent's spec at run start; the result is recorded in history. A worker that does not
 * register the agent leaves the run to the workers that may, for a while (`UNKNOWN_AGENT_WAIT_SECONDS`):
 * its failure is retryable, so that the resolution, asked again as a regular activity of the run's
 * queue, is retried until a worker that registers the agent takes it (workflows/activities.ts).
 */
import { ApplicationFailure } from '@temporalio/common';
import { log } from '@temporalio/activity';
import type { AgentNotOnThisWorkerDetails } from '../src/activity-contract';
import { ErrorType } from '../src/errors';
import { handoffSpecs } from '../src/handoff-targets';
import type { AgentRegistry } from '../src/registry';
import { patchesKnownTo } from '../src/patches';
import { resolveSpec, type SpecOptions } from '../src/spec';
import { subAgentSpecs } from '../src/sub-agent-definitions';
import { LocalCallKind, type AgentSpec } from '../src/types';

/** The registry, the worker's settings that a spec records, and how long an unknown agent's run is left to others. */
export type SpecActivityDeps = { registry: AgentRegistry; unknownAgentWaitMs: number } & Omit<
  SpecOptions,
  'model' | 'fallbackModels'
>;

export interface SpecResolutionInput {
  agent: string;
  model?: string;
  fallbackModels?: string[];
  /**
   * When the wait for a worker that registers the agent began: the run's start (its start event's
   * time), or a handoff's. Until `unknownAgentWaitMs` after it, a worker that does not register the
   * agent leaves the resolution to others. Absent: it fails at once. (Named before handoffs waited.)
   */
  runStartedAtMs?: number;
  /**
   * The changes the code running the run knows (`PATCHES_IN_SPEC` there): the spec lists only those,
   * since the worker that resolves it may run other code (a hand-over, run-setup.ts).
   */
  knownPatches?: readonly string[];
}

export function createSpecActivities({ registry, unknownAgentWaitMs, ...settings }: SpecActivityDeps) {
  const runsToolsLocally = settings.localActivities?.includes(LocalCallKind.tools) ?? false;
  return {
    async resolveAgentSpec(input: SpecResolutionInput): Promise<AgentSpec> {
      const { runStartedAtMs, knownPatches, ...request } = input;
      const agent = registry.get(request.agent);
      if (!agent) {
        const known = `known agents: ${registry.names().join(', ') || '(none)'}`;
        // Counted from the run's start on this worker's clock: the run's first task fails until then.
        const waitedMs = runStartedAtMs === undefined ? undefined : Date.now() - runStartedAtMs;
        if (waitedMs !== undefined && waitedMs < unknownAgentWaitMs) {
          const leftS = Math.ceil((unknownAgentWaitMs - waitedMs) / 1000);
          log.warn(
            `agent "${request.agent}" is not registered on this worker (${known}): leaving the run to a worker ` +
              `that registers it, for ${leftS} s more (UNKNOWN_AGENT_WAIT_SECONDS)`,
          );
          throw ApplicationFailure.create({
            type: ErrorType.AgentNotOnThisWorker,
            message:
              `agent "${request.agent}" is not registered on this worker (${known}); ` +
              `left to a worker that registers it for ${leftS} s more`,
            details: [{ runsToolsLocally } satisfies AgentNotOnThisWorkerDetails],
          });
        }
        const waited = unknownAgentWaitMs > 0 && waitedMs !== undefined ? unknownAgentWaitMs / 1000 : undefined;
        throw ApplicationFailure.nonRetryable(
          `unknown agent "${request.agent}"; ${known}` +
            (waited !== undefined ? `; no worker that registers it took the run within ${waited} s` : ''),
          ErrorType.UnknownAgent,
        );
      }
      const spec = resolveSpec(agent, { ...request, ...settings }, registry.mcpServersOf(agent));
      return {
        ...spec,
        ...subAgentSpecs(agent, registry),
        ...handoffSpecs(agent, registry),
        patches: patchesKnownTo(knownPatches),
      };
    },
  };
}

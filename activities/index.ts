/**
 * All activities of durable-agents, built from their dependencies by one factory.
 */
import { createContinuationActivities } from './continuation-proof';
import { createMemoryActivities } from './memory-updates';
import { createModelActivities, type ModelActivityDeps } from './model';
import { createSpecActivities, type SpecActivityDeps } from './spec-resolution';
import { createToolActivities, type ToolActivityDeps } from './tools';

export type ActivityDeps = ModelActivityDeps & SpecActivityDeps & ToolActivityDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createSpecActivities(deps),
    ...createModelActivities(deps),
    ...createToolActivities(deps),
    ...createMemoryActivities(),
    ...createContinuationActivities(),
  };
}

/** The activity interface, for `proxyActivities<Activities>()` in workflows (import it as a type). */
export type Activities = ReturnType<typeof createActivities>;
export type {
  MemoryCallInput,
  MemoryOutcome,
  ModelCallInput,
  ModelCallResult,
  ModelTool,
  SummaryCallInput,
  ToolCallInput,
  ToolCallOutcome,
} from '../src/activity-contract';

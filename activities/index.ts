/**
 * All activities of durable-agents, built from their dependencies by one factory.
 */
import { createContinuationActivities } from './continuation-proof';
import { createMcpCalls, type McpCallDeps } from './mcp-calls';
import { createMemoryActivities } from './memory-updates';
import { createModelActivities, type ModelActivityDeps } from './model';
import { createSpecActivities, type SpecActivityDeps } from './spec-resolution';
import { createSubAgentDecisionActivities } from './sub-agent-decisions';
import { createToolActivities, type ToolActivityDeps } from './tools';

export type ActivityDeps = ModelActivityDeps & SpecActivityDeps & Omit<ToolActivityDeps, 'callMcpTool'> & McpCallDeps;

export function createActivities(deps: ActivityDeps) {
  const mcp = createMcpCalls(deps);
  return {
    ...createSpecActivities(deps),
    ...createModelActivities(deps),
    ...createToolActivities({ ...deps, callMcpTool: mcp.call }),
    listMcpTools: mcp.list,
    ...createMemoryActivities(),
    ...createContinuationActivities(),
    ...createSubAgentDecisionActivities(),
  };
}

/** The activity interface, for `proxyActivities<Activities>()` in workflows (import it as a type). */
export type Activities = ReturnType<typeof createActivities>;
export type {
  McpListInput,
  McpToolList,
  MemoryCallInput,
  MemoryOutcome,
  ModelCallInput,
  ModelCallResult,
  ModelTool,
  SummaryCallInput,
  ToolCallInput,
  ToolCallOutcome,
} from '../src/activity-contract';

/**
 * A run's sub-agents as a tree, read from Temporal's visibility (`ParentWorkflowId`): each node its
 * agent, status, steps, tokens and cost, as the run's search attributes say. A run's tokens and cost
 * are its tree's (its own and its sub-agents'), so each node also says what it spent itself.
 */
import { subAgentCallId } from '../src/contract';
import type { RunListing } from './run-listing';
import type { RunSummary } from './run-types';

/** One run of a tree of sub-agents. */
export interface RunTreeNode {
  workflowId: string;
  agent?: string;
  status: string;
  steps?: number;
  /** Its tree's: its own and its sub-agents'. */
  tokens?: number;
  costUsd?: number;
  /** Its own model calls' alone. */
  ownTokens: number;
  ownCostUsd: number;
  subAgents: RunTreeNode[];
}

/** How deep the tree is read at most (runs allow 8 levels of sub-agents). */
const MAX_LEVELS = 8;

/** The call id (`step.index`) a sub-agent's workflow id ends with, as numbers to order calls by. */
function callOrder(workflowId: string): number[] {
  return (subAgentCallId(workflowId).match(/\d+/g) ?? []).map(Number);
}

/** Orders sub-agents' runs as their calls were made: step, then place in the step's answer. */
export function byCall(a: RunSummary, b: RunSummary): number {
  const [left, right] = [callOrder(a.workflowId), callOrder(b.workflowId)];
  return (left[0] ?? 0) - (right[0] ?? 0) || (left[1] ?? 0) - (right[1] ?? 0);
}

/** The sub-agents of the run `workflowId`, each with its own, in the order they were called. */
export async function subAgentTree(listing: RunListing, workflowId: string, level = 0): Promise<RunTreeNode[]> {
  if (level >= MAX_LEVELS) return [];
  const children = (await listing.children(workflowId)).sort(byCall);
  return Promise.all(
    children.map(async (child) => nodeOf(child, await subAgentTree(listing, child.workflowId, level + 1))),
  );
}

/** `run` as a node over `subAgents`, with what it spent itself. */
export function nodeOf(run: Omit<RunSummary, 'startTime' | 'closed'>, subAgents: RunTreeNode[]): RunTreeNode {
  const below = (pick: (node: RunTreeNode) => number | undefined) =>
    subAgents.reduce((sum, node) => sum + (pick(node) ?? 0), 0);
  return {
    workflowId: run.workflowId,
    ...(run.agent !== undefined && { agent: run.agent }),
    status: String(run.status),
    ...(run.steps !== undefined && { steps: run.steps }),
    ...(run.tokens !== undefined && { tokens: run.tokens }),
    ...(run.costUsd !== undefined && { costUsd: run.costUsd }),
    ownTokens: Math.max(0, (run.tokens ?? 0) - below((node) => node.tokens)),
    ownCostUsd: Math.max(0, (run.costUsd ?? 0) - below((node) => node.costUsd)),
    subAgents,
  };
}

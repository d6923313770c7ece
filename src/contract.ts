/**
 * The one module that names every workflow, signal, update, query and search attribute of
 * durable-agents. Workflows, the worker, the client CLI, the dev-server script and the tests all
 * read these names from here, so the Temporal CLI and the Web UI see the same names the code uses.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { SubAgentReport } from './input';
import type {
  AgentRunState,
  ApprovalDecision,
  MemoryFact,
  MemoryFactInput,
  StructuredOutput,
  UserMemoryInput,
  UserMessage,
} from './types';

/** Workflow type names, as typed on the Temporal CLI (`--type agentRun`). */
export const WorkflowType = {
  agentRun: 'agentRun',
  /** One per user: the facts memory-enabled agents remember about that user across runs. */
  userMemory: 'userMemory',
} as const;

const SHARED_MEMORY_PREFIX = 'memory:';
const AGENT_MEMORY_PREFIX = 'memory@';

/** Separates the call ids of a path (`1.1/2.1`): a sub-agent's workflow id is its parent's, `/`, the call id. */
export const CALL_PATH_SEPARATOR = '/';

/** The call id (`step.index`) a sub-agent's run was started for: what its workflow id ends with. */
export function subAgentCallId(workflowId: string): string {
  return workflowId.slice(workflowId.lastIndexOf(CALL_PATH_SEPARATOR) + 1);
}

/** What an agent may be named: no `:` or `@`, which memory workflow ids rely on (`memoryWorkflowId`). */
export const AGENT_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

/**
 * The workflow id of a user's memory, one `userMemory` workflow each, started by the first `remember`
 * on the task queue of the run that remembered: `memory:<userId>` for the memory agents share (and
 * every memory written before scopes), `memory@<agent>:<userId>` for `agent`'s own. Agent names have
 * no `:` or `@` (`defineAgent`), so the agent ends at the first `:` and no two memories share an id.
 */
export function memoryWorkflowId(userId: string, agent?: string): string {
  return agent === undefined ? `${SHARED_MEMORY_PREFIX}${userId}` : `${AGENT_MEMORY_PREFIX}${agent}:${userId}`;
}

/** Whose memory `workflowId` is (the inverse of `memoryWorkflowId`); undefined for any other id. */
export function memoryOfWorkflowId(workflowId: string): UserMemoryInput | undefined {
  if (workflowId.startsWith(SHARED_MEMORY_PREFIX)) return { userId: workflowId.slice(SHARED_MEMORY_PREFIX.length) };
  if (!workflowId.startsWith(AGENT_MEMORY_PREFIX)) return undefined;
  const [agent, ...userId] = workflowId.slice(AGENT_MEMORY_PREFIX.length).split(':');
  return agent && userId.length ? { userId: userId.join(':'), agent } : undefined;
}

/** Whether `workflowId` is taken by memories: no agent run may use such an id (it would block that memory). */
export function isMemoryWorkflowId(workflowId: string): boolean {
  return workflowId.startsWith(SHARED_MEMORY_PREFIX) || workflowId.startsWith(AGENT_MEMORY_PREFIX);
}

/** Why a run cannot have an id `isMemoryWorkflowId` accepts, as the workflow and the client say it. */
export const MEMORY_IDS_RESERVED = `ids starting "${SHARED_MEMORY_PREFIX}" or "${AGENT_MEMORY_PREFIX}" are reserved for users' memories`;

/** Query `state`: the run's status, transcript, usage and pending approvals at any moment. */
export const stateQuery = defineQuery<AgentRunState>('state');

/**
 * Signal `message` `{text}`: a user message for a session run; queued in order while the agent works.
 * A signal cannot be refused, so an invalid one is only ignored (and still recorded in history):
 * prefer the `enqueue` update, which validates before anything is recorded.
 */
export const messageSignal = defineSignal<[UserMessage]>('message');

/** Update `enqueue` `{text}`: queue a user message for a session run; returns once it is queued (not answered). */
export const enqueueUpdate = defineUpdate<string, [UserMessage]>('enqueue');

/** Signal `end`: finish a session after any turn in progress. */
export const endSignal = defineSignal('end');

/**
 * Update `chat` `{text}`: send a user message to a session and wait for the assistant's reply to it
 * (the text, or for an agent with an output schema the object).
 */
export const chatUpdate = defineUpdate<string | StructuredOutput, [UserMessage]>('chat');

/**
 * Update `steer` `{text}` (task runs and sessions): a message that joins the turn in progress at its
 * next step, once the calls in flight finish, so the model's next request reads it; between turns it
 * is queued as `enqueue` queues. Returns once the run has accepted it, saying which it was.
 */
export const steerUpdate = defineUpdate<string, [UserMessage]>('steer');

/** Update `approval` `{callId, approve, note?}`: a person's decision on a tool call awaiting approval. */
export const approvalUpdate = defineUpdate<string, [ApprovalDecision]>('approval');

/**
 * Signal `subAgentReport` (from a sub-agent's run to its parent's, `src/input.ts`): the usage of its
 * tree so far and the calls waiting for approval in it, so the root's budget, status and approvals
 * are the whole tree's while the sub-agents run.
 */
export const subAgentReportSignal = defineSignal<[SubAgentReport]>('subAgentReport');

/**
 * Signal `forwardedApproval` (from a parent run to a sub-agent's) `{callId, approve, note?}`: a
 * decision made on the root, on a call waiting in this run (or, by a path of call ids, below it).
 */
export const forwardedApprovalSignal = defineSignal<[ApprovalDecision]>('forwardedApproval');

/** Update `remember` `{fact}` (`userMemory`): store a fact about the user, or refresh it; returns what was done. */
export const rememberUpdate = defineUpdate<string, [MemoryFactInput]>('remember');

/** Update `forget` `{fact}` (`userMemory`): remove a fact (case and surrounding spaces ignored); returns whether it was there. */
export const forgetUpdate = defineUpdate<boolean, [MemoryFactInput]>('forget');

/** Query `facts` (`userMemory`): the user's facts, oldest first. */
export const factsQuery = defineQuery<MemoryFact[]>('facts');

/**
 * Custom search attributes the workflow keeps current. `temporal-dev.sh` and the test harness
 * register exactly this list with the server, so keep one `defineSearchAttributeKey` call per line.
 */
export const searchAttributes = {
  agentName: defineSearchAttributeKey('AgentName', SearchAttributeType.KEYWORD),
  agentStatus: defineSearchAttributeKey('AgentStatus', SearchAttributeType.KEYWORD),
  agentUser: defineSearchAttributeKey('AgentUser', SearchAttributeType.KEYWORD),
  agentSteps: defineSearchAttributeKey('AgentSteps', SearchAttributeType.INT),
  agentTokens: defineSearchAttributeKey('AgentTokens', SearchAttributeType.INT),
  agentCostUsd: defineSearchAttributeKey('AgentCostUsd', SearchAttributeType.DOUBLE),
  // Token counts as Double (exact to 2^53): SQL visibility holds three Int attributes per namespace.
  agentCachedTokens: defineSearchAttributeKey('AgentCachedTokens', SearchAttributeType.DOUBLE),
  agentReasoningTokens: defineSearchAttributeKey('AgentReasoningTokens', SearchAttributeType.DOUBLE),
} as const;

/**
 * The attributes above that came after the first deployments, which may not have registered them: an
 * upsert of an attribute the namespace lacks fails every workflow task of the run. A worker keeps them
 * only where it finds them registered at its start, and a run's spec records those it keeps.
 */
export const OPTIONAL_SEARCH_ATTRIBUTES: readonly string[] = [
  searchAttributes.agentCachedTokens.name,
  searchAttributes.agentReasoningTokens.name,
];

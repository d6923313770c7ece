/**
 * Plain-JSON shapes that cross the workflow boundary: inputs, results, state, and the resolved agent
 * spec recorded in history. Workflows, activities and clients share them; nothing here does I/O.
 */
import type { RetryPolicy } from '@temporalio/common';
import type { Limits } from './input';
import type { McpServerSpec } from './mcp-server';
import type { ModelSettings } from './model-settings';
import type { PriceTable } from './pricing';

/** Every status a run reports through the `state` query and the `AgentStatus` search attribute. */
export const RunStatus = {
  starting: 'starting',
  running: 'running',
  awaitingInput: 'awaiting_input',
  awaitingApproval: 'awaiting_approval',
  completed: 'completed',
  limitReached: 'limit_reached',
  /** The model kept repeating itself after being told so; the result's `reason` says what it repeated. */
  stuck: 'stuck',
  failed: 'failed',
  cancelled: 'cancelled',
  /** This run of the chain handed over to its continuation, which goes on under the same workflow id. */
  continued: 'continued',
} as const;
export type RunStatus = (typeof RunStatus)[keyof typeof RunStatus];

/** Statuses a finished run can end in (the `status` of its result). */
export type FinalStatus = typeof RunStatus.completed | typeof RunStatus.limitReached | typeof RunStatus.stuck;

/** The budget names a run can be stopped by. */
export const LimitName = {
  maxSteps: 'maxSteps',
  maxTokens: 'maxTokens',
  maxCostUsd: 'maxCostUsd',
  maxDurationSeconds: 'maxDurationSeconds',
} as const;
export type LimitName = (typeof LimitName)[keyof typeof LimitName];

// The shapes callers send are the types of their schemas (src/input.ts, src/memory.ts): declared once.
export type { ApprovalDecision, Budgets, Limits, UserMessage } from './input';
export type { MemoryFactInput } from './memory';

/** Tokens and cost of some model responses. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /**
   * Of `inputTokens`, those read from the provider's prompt cache (billed at the cached price); of
   * `outputTokens`, those spent reasoning (billed as output). Each present once a call reported some.
   */
  cachedInputTokens?: number;
  reasoningTokens?: number;
  costUsd: number;
  /** Set once any of them came from an endpoint that reported no usage: their tokens are estimated. */
  estimated?: true;
}

/** Token usage and cost summed over every model response of a run. */
export interface Usage extends TokenUsage {
  /** False once any response came from a model missing from the price table (its cost counted as 0). */
  costKnown: boolean;
  /** The same per model that answered (a fallback model's answers count under its own name). */
  byModel?: Record<string, TokenUsage & { calls: number }>;
}

/** One tool invocation requested by the model, in the Chat Completions wire shape. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** A transcript entry, in the Chat Completions wire shape so it is sent to the model unchanged. */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string | null; tool_calls?: ToolCall[] }
  | { role: 'tool'; tool_call_id: string; content: string };

/** A tool call held until a person approves or denies it. */
export interface PendingApproval {
  callId: string;
  tool: string;
  args: unknown;
  /**
   * Set for a call waiting in a sub-agent's run: the agents it sits under, from this run's sub-agent
   * down to the one whose tool waits. Its `callId` is then the path of call ids (`1.1/2.1`) to decide it by.
   */
  agentPath?: string[];
}

/** A sub-agent as a run records it: the tool its model sees. */
export interface SubAgentSpec {
  name: string;
  description: string;
}

/** What the `state` query returns. */
export interface AgentRunState {
  status: RunStatus;
  agent: string;
  mode: RunMode;
  userId?: string;
  step: number;
  messages: ChatMessage[];
  /** With sub-agents: the whole tree's (this run's and every descendant's so far). */
  usage: Usage;
  /** Set for a run with sub-agents: its own model calls' usage alone. */
  ownUsage?: Usage;
  /** Calls waiting for a person, this run's and (with `agentPath`) its sub-agents'. */
  pendingApprovals: PendingApproval[];
  /** User messages received and not yet answered. */
  queuedMessages: number;
  /**
   * The agent the run acts as now (`agent` until a handoff: docs/handoffs.md); set in runs whose agent
   * can hand off.
   */
  activeAgent?: string;
  /**
   * The sub-agent runs this run started, in call order (since its last continue-as-new): how a
   * stream finds them at once, by id, where Temporal's visibility lists them a moment later.
   */
  subAgentRuns?: SubAgentRunRef[];
}

/** A sub-agent run a run started: its workflow id is the run's, `/`, `callId` (`step.index`). */
export interface SubAgentRunRef {
  callId: string;
  /** The id the model gave the tool call that asked for it, as the transcript holds it. */
  toolCallId: string;
  agent: string;
  workflowId: string;
}

/**
 * When a run writes its usage search attributes (`AgentSteps`, `AgentTokens`, `AgentCostUsd`, and the
 * token kinds it keeps): after each model call, or only with each change of `AgentStatus` (the run
 * starts working, waits for a person or a message, continues as new, ends), which saves a search
 * attribute upsert (an event, a visibility write and, on Temporal Cloud, an Action) per model call.
 */
export const UsageAttributes = { eachCall: 'each-call', withStatus: 'with-status' } as const;
export type UsageAttributes = (typeof UsageAttributes)[keyof typeof UsageAttributes];

/**
 * The calls a run can make as Temporal local activities (the fast path), as `LOCAL_ACTIVITIES` and an
 * agent's `localActivities` name them: model calls, tool calls.
 */
export const LocalCallKind = { model: 'model', tools: 'tools' } as const;
export type LocalCallKind = (typeof LocalCallKind)[keyof typeof LocalCallKind];

export const RunMode = { task: 'task', session: 'session' } as const;
export type RunMode = (typeof RunMode)[keyof typeof RunMode];

/** An answer in an agent's output schema: a JSON object. */
export type StructuredOutput = Record<string, unknown>;
/** A run's final answer: its text, or the object of an agent with an output schema. */
export type RunOutput = string | StructuredOutput;

/** How an agent with an output schema is asked for it. */
export const OutputMode = {
  /** `response_format: { type: 'json_schema' }` on each model call: the answer's text is the JSON. */
  responseFormat: 'response_format',
  /** A final `answer` tool whose input is the schema, for models without `json_schema`. */
  answerTool: 'answer_tool',
} as const;
export type OutputMode = (typeof OutputMode)[keyof typeof OutputMode];

/** An agent's output schema as its runs record it (`src/output-schema.ts`). */
export interface OutputSpec {
  /** `json_schema.name`: the agent's name, in the letters OpenAI allows. */
  name: string;
  /** The JSON Schema, exported from the agent's zod schema; answers are checked against it. */
  schema: Record<string, unknown>;
  /** Whether it is sent with `strict: true` (every object closed, every property required). */
  strict: boolean;
  mode: OutputMode;
}

/**
 * What a finished run returns. `Output`: its final answer, the text, or for an agent with an output
 * schema the object (`AgentClient.result(id, { agent })` types it from the agent's definition).
 */
export interface AgentRunResult<Output = RunOutput> {
  status: FinalStatus;
  /**
   * The final answer. With an output schema, the object; a run a budget or a stuck loop ended
   * before an answer in the schema has the text saying what it could not do, and `outputError`.
   */
  output: Output;
  /** Set when the run has an output schema and ended (a budget, a stuck loop) without an answer valid in it. */
  outputError?: string;
  /** Model calls made. */
  steps: number;
  /** With sub-agents: the whole tree's. */
  usage: Usage;
  /** Set for a run with sub-agents: its own model calls' usage alone. */
  ownUsage?: Usage;
  /** Set when `status` is `limit_reached`: the budget that stopped the run. */
  limit?: LimitName;
  /** Set when `status` is `stuck`: what the model kept repeating. */
  reason?: string;
  /** Messages a session received and did not answer before it ended (a budget or a stuck loop ended it). */
  unansweredMessages?: string[];
  /**
   * The agent the run acted as when it ended, whose answer `output` is: the run's own agent, or the
   * one a handoff passed it to (docs/handoffs.md). Set in runs whose agent can hand off.
   */
  answeredBy?: string;
}

/** A tool as the workflow sees it: its JSON schema and execution policy, no code. */
export interface ToolSpec {
  name: string;
  description: string;
  /** JSON schema of the arguments, exported from the tool's zod schema. */
  parameters: Record<string, unknown>;
  requiresApproval: boolean;
  /**
   * Set (with `requiresApproval`) when the tool's `requiresApproval` is a function of the arguments:
   * `checkToolArguments` evaluates it for each call, and only calls it says yes to wait for a person.
   */
  approvalByArguments?: true;
  startToCloseTimeoutMs: number;
  heartbeatTimeoutMs?: number;
  retry: RetryPolicy;
  taskQueue?: string;
  /** Runs as a local activity, on the worker running the run's workflow task; absent means a regular one. */
  local?: boolean;
  /** A tool of an MCP server, listed by the run: the server's name and the tool's own name there. */
  mcp?: { server: string; tool: string };
}

/** An agent a run may be handed to, as the model sees it: a tool `transfer_to_<agent>` (docs/handoffs.md). */
export interface HandoffSpec {
  agent: string;
  /** The tool's name: `transfer_to_` and the agent's name (`handoffToolName`). */
  tool: string;
  /** What the model reads about the agent: its `description`. */
  description: string;
}

/** How model calls are timed and retried; from the worker's configuration at run start. */
export interface ModelCallPolicy {
  requestTimeoutMs: number;
  heartbeatTimeoutMs: number;
  maxAttempts: number;
  /** How long 429s are retried, apart from `maxAttempts` (absent in specs recorded before it existed). */
  rateLimitBudgetMs?: number;
  /**
   * How long an outage of the call's last model is retried once `maxAttempts` are spent, from the
   * call's first failure (absent in specs recorded before: the default).
   */
  unavailableBudgetMs?: number;
  /**
   * The longest a call waits for the provider's rate limit before its request, added to its
   * start-to-close (absent in specs recorded before pacing: calls wait only within the usual margin).
   */
  pacingWaitMs?: number;
  /** Times a step asks again when the server could not parse the model's output (absent: the default). */
  unparsedAttempts?: number;
  /** Calls run as local activities, on the worker running the run's workflow task; absent means regular ones. */
  local?: boolean;
  /** The task queue regular calls are scheduled on (the model role polls it); absent: the run's own. */
  taskQueue?: string;
}

/**
 * Everything the workflow needs to know about an agent, resolved by an activity at run start and
 * recorded in history, so a run keeps one consistent spec while later deploys change the agent.
 */
export interface AgentSpec {
  name: string;
  description: string;
  instructions: string;
  model: string;
  tools: ToolSpec[];
  limits: Limits;
  approvalTimeoutSeconds: number;
  modelCall: ModelCallPolicy;
  /** Past this serialized size (UTF-8 bytes) the transcript is compacted, oldest first. */
  transcriptMaxBytes?: number;
  /** Recorded by runs started before sizes were counted in bytes; read as `transcriptMaxBytes`. */
  transcriptMaxChars?: number;
  /** Models tried in order when a call to `model` fails after its retries on a retryable failure. */
  fallbackModels?: string[];
  /** Prices of `model` and the fallback models that have one, for cost budgets. */
  prices?: PriceTable;
  /** Request parameters the agent sends with every model call (`modelSettings`); absent when it sets none. */
  modelSettings?: ModelSettings;
  /** Tokens the run's models read at most, when known (absent in specs recorded before windows were known). */
  contextWindowTokens?: number;
  /** Past this many input tokens, the oldest part of the conversation is summarised. */
  compactAtTokens?: number;
  /** The run continues as new between steps once its history passes this many bytes. */
  continueAsNewAtBytes?: number;
  /** A run that cannot continue as new fails `HistoryLimit` once its history passes this many bytes. */
  historyLimitBytes?: number;
  /** The agent remembers facts about a run's user across sessions (`remember`/`forget` tools); absent means no. */
  memory?: boolean;
  /**
   * Whose memory the run uses, set with `memory`. Absent in specs recorded before scopes: those runs
   * use the memory shared by all agents and recall it into a system message, as they were recorded.
   */
  memoryScope?: MemoryScope;
  /** The agent's sub-agents, which the model calls as tools; absent means none. */
  subAgents?: SubAgentSpec[];
  /**
   * Set by the run, not by the worker that resolved it: a worker of the queue other than the one
   * that took the run's first task resolved the spec, since that one does not register the agent.
   * Its tool calls are then not handed to the worker running the run (eager dispatch).
   */
  resolvedElsewhere?: true;
  /**
   * The agent's output schema: the final answer is JSON valid against it. Absent: a text answer (and
   * in specs recorded before structured output).
   */
  output?: OutputSpec;
  /**
   * The agents a run of this agent may hand the conversation to (`transfer_to_<agent>` tools); absent
   * for agents without handoffs, whose runs record specs as before.
   */
  handoffs?: HandoffSpec[];
  /**
   * The workflow changes (`src/patches.ts`) the run has from its start, so it records no `patched()`
   * marker for them; absent in specs recorded before changes were listed.
   */
  patches?: string[];
  /**
   * The MCP servers whose tools the run offers (their tools join `tools` once listed, `mcp` set);
   * absent in specs of agents without MCP servers, and in specs recorded before MCP servers existed.
   */
  mcpServers?: McpServerSpec[];
  /**
   * The optional search attributes (`OPTIONAL_SEARCH_ATTRIBUTES`) the run keeps current: those the
   * namespace had registered when the worker that resolved the spec started. Absent: none.
   */
  searchAttributes?: string[];
  /** `with-status` when the run writes its usage attributes only with its status; absent: after each model call. */
  usageAttributes?: typeof UsageAttributes.withStatus;
}

/**
 * Whose memory an agent's runs use: the agent's own per user (the default), or one per user shared by
 * every agent that opts into `shared`.
 */
export const MemoryScope = { agent: 'agent', shared: 'shared' } as const;
export type MemoryScope = (typeof MemoryScope)[keyof typeof MemoryScope];

/** The tools a memory-enabled agent's runs with a user get; an agent with memory cannot define tools of these names. */
export const MemoryToolName = { remember: 'remember', forget: 'forget' } as const;
export type MemoryToolName = (typeof MemoryToolName)[keyof typeof MemoryToolName];

/** One fact a user's memory holds (the `facts` query), oldest first. */
export interface MemoryFact {
  text: string;
  /** When it was last remembered (ISO 8601, workflow time): remembering it again refreshes it. */
  rememberedAt: string;
}

/** A fact as a client lists a user's memories: with the agent whose own memory holds it; none for the shared one. */
export interface RememberedFact extends MemoryFact {
  agent?: string;
}

/**
 * The `userMemory` workflow's input: whose memory it is, the user's and, for an agent's own memory, the
 * agent's (its workflow id is `memoryWorkflowId(userId, agent)`). Without `agent`: the shared memory.
 */
export interface UserMemoryInput {
  userId: string;
  agent?: string;
}

/**
 * The inputs and results of the activities a run calls, declared once: the activities implement
 * them, the workflow schedules them, and the client and the worker read them back from history (a
 * run's transcript and usage are rebuilt from these records). Workflow-safe: shapes only.
 */
import type { ModelSettings } from './model-settings';
import type { TranscriptCarrier } from './transcript-replay';
import type { ApprovalDecision, ChatMessage, OutputSpec, UserMemoryInput } from './types';

/** A tool as offered to the model. */
export interface ModelTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** One model request; its transcript comes whole (`messages`) or by reference (`transcript`). */
export interface ModelCallInput extends TranscriptCarrier {
  agent: string;
  model: string;
  step: number;
  tools: ModelTool[];
  requestTimeoutMs: number;
  /** `none` for a run's wrap-up call: the model answers from what it has, calling no tool. */
  toolChoice?: 'none';
  /**
   * Caps the answer so a wrap-up call stays inside a token or cost budget: sent as
   * `max_completion_tokens`, `max_tokens` or both (activities/output-cap.ts), and cut there if overrun.
   */
  maxOutputTokens?: number;
  /** The agent's `modelSettings`, sent with the request as they are (absent in runs without them). */
  modelSettings?: ModelSettings;
  /** The agent's output schema, sent as `response_format: { type: 'json_schema', json_schema }`. */
  responseFormat?: Pick<OutputSpec, 'name' | 'schema' | 'strict'>;
}

/**
 * A request for a summary of the transcript's messages `[from, to)`, which the run then replaces with
 * it; at most `maxInputBytes` of them are sent (each message cut to its share).
 */
export interface SummaryCallInput extends Omit<ModelCallInput, 'tools' | 'toolChoice'> {
  from: number;
  to: number;
  maxInputBytes: number;
}

/** A model call's answer, checked (activities/model-response.ts). */
export interface ModelCallResult {
  /** The model that answered (a fallback model when the first one failed). */
  model: string;
  message: Extract<ChatMessage, { role: 'assistant' }>;
  finishReason: string | null;
  inputTokens: number;
  outputTokens: number;
  /** Of `inputTokens`, those the provider read from its prompt cache (billed at the cached price); absent when none. */
  cachedInputTokens?: number;
  /** Of `outputTokens`, those the model spent reasoning (billed as output); absent when none were reported. */
  reasoningTokens?: number;
  costUsd: number;
  costKnown: boolean;
  /** Set when the endpoint reported no usage: the tokens (and so the cost) are estimated from the sizes. */
  usageEstimated?: true;
}

export interface ToolCallInput {
  agent: string;
  tool: string;
  /** Already parsed from the model's JSON by the workflow. */
  args: unknown;
  /** Assigned by the workflow, unique within the run (`3.1` = step 3, first call). */
  callId: string;
  /**
   * The first run id of the run's chain (`firstExecutionRunId`): it survives continue-as-new but not
   * the reuse of a workflow id. Absent from calls scheduled by runs started before it was sent.
   */
  runChainId?: string;
  /** Set for a tool of an MCP server: the server, and the tool's own name there (`tool` is the model's name). */
  mcp?: { server: string; tool: string };
}

/** A run's request for the tools of one of its MCP servers; `known`: the fingerprint of the list it has. */
export interface McpListInput {
  agent: string;
  server: string;
  known?: string;
}

/** A tool as its MCP server lists it (description and schema bounded by the worker). */
export interface McpListedTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

/**
 * An MCP server's tools: the list and its fingerprint, with the tools left out and why (over the
 * bounds); or only that the list is the one the run has (`unchanged`), so history holds each list once.
 */
export type McpToolList =
  | { server: string; fingerprint: string; tools: McpListedTool[]; leftOut?: { name: string; reason: string }[] }
  | { server: string; fingerprint: string; unchanged: true };

/** `ok: false` carries a message written for the model, so it can correct its call. */
export type ToolCallOutcome = { ok: true; content: string } | { ok: false; error: string };

/**
 * What `checkToolArguments` says of a call's arguments: whether the tool's schema takes them and, for
 * a tool whose approval depends on its arguments (`requiresApproval` a function), whether these need it.
 */
export type ArgumentCheck = { ok: true; content: string; requiresApproval?: boolean } | { ok: false; error: string };

/** The details of a `ToolNotRegistered` failure: how long the worker that had no such tool lets others try. */
export interface ToolNotRegisteredDetails {
  waitMs: number;
}

/**
 * The details of an `AgentNotOnThisWorker` failure: whether the worker that could not resolve the spec
 * runs tools as local activities (`LOCAL_ACTIVITIES`), which run on the worker that runs the run.
 */
export interface AgentNotOnThisWorkerDetails {
  runsToolsLocally: boolean;
}

/** Whose memory (`agent` absent: the shared one; runs recorded before scopes send no agent) and the fact. */
export interface MemoryCallInput extends UserMemoryInput {
  fact: string;
  /**
   * The task queue a new memory workflow starts on: the calling run's own (its workflow task queue),
   * which workers registering `userMemory` poll. Activities may run on other queues, so the run says.
   */
  taskQueue: string;
}

/** `ok: false` carries why the memory refused the update, for the model to read. */
export type MemoryOutcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** A decision made on a run about a call waiting in one of its sub-agents, sent on to that sub-agent's run. */
export interface ForwardedDecisionInput {
  /** The sub-agent's run. */
  workflowId: string;
  /** The decision, its `callId` as that run names the call. */
  decision: ApprovalDecision;
}

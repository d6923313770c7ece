/**
 * Every default in one place (README's configuration tables point here). Workflow-safe: the
 * workflow, the activities, the worker and the client all read these.
 */

/** Task queue that workers poll and clients start runs on (env `TASK_QUEUE`). */
export const DEFAULT_TASK_QUEUE = 'agents';

/** Where Temporal is when neither env nor a profile says (env `TEMPORAL_ADDRESS`). */
export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** Model when neither the run nor the agent names one (env `AGENT_MODEL`). */
export const DEFAULT_MODEL = 'gpt-4o-mini';

/** Per model request (env `MODEL_TIMEOUT_SECONDS`); the activity's start-to-close is 5 s longer. */
export const DEFAULT_MODEL_TIMEOUT_SECONDS = 120;
/** How soon a dead worker's model call is retried elsewhere (env `MODEL_HEARTBEAT_SECONDS`). */
export const DEFAULT_MODEL_HEARTBEAT_SECONDS = 30;
/** Attempts per model call (env `MODEL_MAX_ATTEMPTS`). */
export const DEFAULT_MODEL_MAX_ATTEMPTS = 5;

/** 429s are retried on a time budget of their own, apart from the attempts above (env `MODEL_RATE_LIMIT_SECONDS`). */
export const DEFAULT_MODEL_RATE_LIMIT_SECONDS = 600;

/**
 * An outage of the last model a call may try (connection failures, 5xx, cut streams, timeouts) is
 * retried for this long, counted from the call's first failure, when its attempts are spent (env
 * `MODEL_UNAVAILABLE_SECONDS`): a model server restarting or loading a model must not fail every run.
 */
export const DEFAULT_MODEL_UNAVAILABLE_SECONDS = 300;
/** The longest wait between two tries of a model that is down. */
export const LONGEST_MODEL_OUTAGE_DELAY_SECONDS = 30;

/**
 * Times a step asks again when the model server could not parse what the model wrote (env
 * `MODEL_UNPARSED_ATTEMPTS`); then the step asks for an answer without tools.
 */
export const DEFAULT_MODEL_UNPARSED_ATTEMPTS = 3;
/**
 * The longest a model call waits, before its request, for the provider's rate limit to reset (longer
 * resets are left to the provider's 429): its activity's start-to-close is this much longer.
 */
export const LONGEST_MODEL_PACING_SECONDS = 60;

/**
 * Times an answer that does not fit the agent's output schema goes back to the model with what was
 * wrong (`limits.maxOutputRepairs`), each a step of its own; then the run fails `OutputInvalid`.
 */
export const DEFAULT_MAX_OUTPUT_REPAIRS = 2;

/**
 * Whether the run's models take `response_format: json_schema` (env `MODEL_STRUCTURED_OUTPUT`, an
 * agent's `structuredOutput`); where they do not, an agent with an output schema answers through a
 * final `answer` tool whose input is the schema.
 */
export const DEFAULT_MODEL_STRUCTURED_OUTPUT = true;

/**
 * How long a workflow task waits on the queue of the worker that ran the run's last task before any
 * worker may take it (Temporal's default is 10 s): after a worker dies, this is what its runs wait
 * on top of their activities' timeouts (env `WORKER_STICKY_TIMEOUT_SECONDS`).
 */
export const DEFAULT_WORKER_STICKY_TIMEOUT_SECONDS = 1;

/**
 * The least time between two heartbeats of a call reaching the server (env `HEARTBEAT_THROTTLE_MS`):
 * how often a streaming model call's text so far reaches clients. Calls that only wait heartbeat
 * every second (`HEARTBEAT_EVERY_MS`), so a cancellation, which the server delivers with its answer
 * to a heartbeat, reaches a call within about a second.
 */
export const DEFAULT_HEARTBEAT_THROTTLE_MS = 250;

/**
 * How long a run whose agent a worker does not register is left to the workers that may (env
 * `UNKNOWN_AGENT_WAIT_SECONDS`): a mixed fleet, a rolling deploy that adds an agent, two apps on one
 * task queue. Past it, counted from the run's start, the run fails `UnknownAgent`.
 */
export const DEFAULT_UNKNOWN_AGENT_WAIT_SECONDS = 600;

/** Step budget of a run (of each turn, in a session) that sets none: a loop that never answers must not spend forever. */
export const DEFAULT_MAX_STEPS = 100;

/** The same tool call (or the same tool results) this many times in a row is a stuck loop (limit `maxRepeats`). */
export const DEFAULT_MAX_REPEATS = 3;

/** Tool calls run per model answer; the excess is answered to the model as not run (input `maxToolCallsPerTurn`). */
export const DEFAULT_MAX_TOOL_CALLS_PER_TURN = 64;

/**
 * Handoffs one turn may make (docs/handoffs.md); a transfer past it is refused and the agent in charge
 * answers itself, so two agents cannot pass a conversation back and forth without end.
 */
export const MAX_HANDOFFS_PER_TURN = 4;

/** Consecutive answers with neither text nor a tool call after which the run fails with `ModelNoAnswer`. */
export const MAX_EMPTY_ANSWERS = 3;

/** A session waits this long for the next message before it completes (input `idleTimeoutSeconds`). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 24 * 60 * 60;

/** Undecided approvals are denied after this long (input `approvalTimeoutSeconds`, agent `approval.timeoutSeconds`). */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 24 * 60 * 60;

/** Start-to-close of one tool attempt (tool option `timeout`). */
export const DEFAULT_TOOL_TIMEOUT = '60s';
/**
 * Heartbeat timeout of a tool that sets none (tool option `heartbeatTimeout`): a tool attempt on a
 * worker that died is retried after this long. The worker heartbeats for every running tool, so a
 * tool need not call `ctx.heartbeat()` unless it blocks the event loop for longer.
 */
export const DEFAULT_TOOL_HEARTBEAT_TIMEOUT = '10s';
/** Retry policy of a tool's activity (tool option `retry` overrides each field it names). */
export const DEFAULT_TOOL_RETRY = { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 } as const;

/**
 * Size bounds, all in UTF-8 bytes of the value serialized as JSON (as it travels in a payload), so a
 * character that takes 3 bytes, or a control character that JSON escapes to 6, counts as such.
 * Temporal rejects any payload over 2 MB and terminates a run whose history passes 50 MB.
 */
export const Bounds = {
  /** A user message: the run's input `message`, and `chat`/`message` text. */
  messageBytes: 131_072,
  /** `agent` and `model` in the input (the agent name is a Keyword search attribute: 2 KB at most). */
  nameBytes: 256,
  /** `userId` in the input (a Keyword search attribute). */
  userIdBytes: 256,
  /** An approval's `note`. */
  noteBytes: 4_096,
  /** An approval's `callId`: `step.index`, or a path of them for a call in a sub-agent (`1.1/2.1`). */
  callIdBytes: 128,
  /** A workflow id (Temporal allows 1,000 by default); a sub-agent's is its parent's and a call id. */
  workflowIdBytes: 1_000,
  /** An agent's `description`, which the model of an agent that has it as a sub-agent reads. */
  descriptionBytes: 2_048,
  /** The arguments of one tool call, as the model wrote them; larger ones go back to the model as an error. */
  toolArgumentsBytes: 65_536,
  /** Any activity input or continue-as-new input the run schedules: it fails with `PayloadTooLarge` rather than send more. */
  payloadBytes: 1_572_864,
  /** `message` signals a run accepts in total; later ones are ignored (a signal cannot be refused, only not acted on). */
  signalBytesPerRun: 1_048_576,
  /** One fact of a user's memory (`remember`/`forget` `{fact}`). */
  memoryFactBytes: 1_024,
  /** The input schema of one MCP tool; a tool with a larger one is left out of the run's tools, with why. */
  mcpToolSchemaBytes: 16_384,
  /** The description of one MCP tool (longer ones are cut). */
  mcpToolDescriptionBytes: 2_048,
  /** Tools of one MCP server a run offers (Chat Completions takes 128 tools a request); the rest are left out. */
  mcpToolsPerServer: 100,
  /** An agent's output schema, as the JSON Schema every run records and sends with each model call. */
  outputSchemaBytes: 16_384,
  /** The `reason` a model may give when it hands the conversation to another agent. */
  handoffReasonBytes: 500,
} as const;

/**
 * How long a worker answers runs' listings of an MCP server's tools from its last listing (env
 * `MCP_LIST_TTL_SECONDS`), unless the server says its list changed (`notifications/tools/list_changed`).
 */
export const DEFAULT_MCP_LIST_TTL_SECONDS = 60;

/** How long a worker waits for an MCP server to start and answer `initialize`, or to list its tools. */
export const MCP_CONNECT_TIMEOUT_MS = 30_000;

/**
 * Facts one user's memory keeps (agent option `memory`); past it the oldest are forgotten. With
 * `Bounds.memoryFactBytes` it bounds the memory workflow's state and what a run starts with (~100 KiB).
 */
export const MAX_MEMORY_FACTS = 100;

/** How deep sub-agents may nest below a run that sets no `limits.maxDepth` (a call past it is a tool error). */
export const DEFAULT_MAX_DEPTH = 3;

/** Longer tool results are cut, with a note (env `TOOL_RESULT_MAX_BYTES`). */
export const DEFAULT_TOOL_RESULT_MAX_BYTES = 32_768;

/**
 * Past this serialized size the transcript is compacted (env `TRANSCRIPT_MAX_BYTES`): the oldest tool
 * results first, then the oldest user and assistant turns, so every model call stays far below
 * Temporal's 2 MB payload limit.
 */
export const DEFAULT_TRANSCRIPT_MAX_BYTES = 1_000_000;

/** The worker's cache of recent runs' transcripts, in MB (env `TRANSCRIPT_CACHE_MB`); a miss rebuilds from history. */
export const DEFAULT_TRANSCRIPT_CACHE_MB = 256;

/**
 * A run continues as new between steps once its history passes this size (env
 * `CONTINUE_AS_NEW_AT_BYTES`), or sooner when Temporal suggests it (at about 4 MB or 4,096 events).
 */
export const DEFAULT_CONTINUE_AS_NEW_AT_BYTES = 8 * 1024 * 1024;

/**
 * Temporal terminates a run whose history passes 50 MB or 51,200 events. A run that gets this close
 * and cannot continue as new fails with `HistoryLimit` instead, while it still can.
 */
export const HISTORY_LIMITS = { bytes: 40 * 1024 * 1024, events: 40_000 } as const;

/**
 * Past this share of the model's context window (env `CONTEXT_COMPACT_AT`), the oldest part of the
 * conversation is summarised by a model call and replaced by the summary.
 */
export const DEFAULT_CONTEXT_COMPACT_AT = 0.75;

/** `durable-agents codec-server` (env `CODEC_SERVER_PORT`, `CODEC_SERVER_UI_ORIGIN`). */
export const CODEC_SERVER_DEFAULTS = {
  /** Loopback only: the server hands out plaintext to whoever holds the token. */
  host: '127.0.0.1',
  port: 8888,
  /** The dev server's Web UI. */
  uiOrigin: 'http://localhost:8233',
  /** Temporal's gRPC messages stop at 4 MB, so no honest batch of payloads is bigger. */
  maxBodyBytes: 4 * 1024 * 1024,
  /** Slow clients are cut off instead of holding sockets open. */
  requestTimeoutMs: 30_000,
} as const;

/** Where the example helpdesk agent records refunds (env `HELPDESK_LEDGER`). */
/**
 * Workflow tasks a worker runs at once when its model calls are local activities: each holds its
 * run's slot while the model answers (Temporal's default, 40, suits regular activities).
 */
export const LOCAL_MODEL_WORKFLOW_CONCURRENCY = 200;

/** How long a stopping worker lets its calls in flight finish (SIGTERM, SIGINT) before cancelling them. */
export const DEFAULT_SHUTDOWN_GRACE_SECONDS = 30;

/**
 * Where the health endpoints (`HEALTH_PORT`) and Prometheus' `/metrics` (`METRICS_PORT`) listen unless
 * `HEALTH_HOST` / `METRICS_HOST` say otherwise: loopback only, since they tell anyone who reaches them
 * which agents, models and tools a worker runs and how much it spends. A container sets `0.0.0.0`
 * (deploy/) so that probes and scrapers on its network reach them.
 */
export const DEFAULT_HEALTH_HOST = '127.0.0.1';
export const DEFAULT_METRICS_HOST = '127.0.0.1';

export const DEFAULT_HELPDESK_LEDGER = '.data/refund-ledger.jsonl';

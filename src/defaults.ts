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

/** Step budget of a run that sets none: a loop that never answers must not spend forever. */
export const DEFAULT_MAX_STEPS = 100;

/** A session waits this long for the next message before it completes (input `idleTimeoutSeconds`). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 24 * 60 * 60;

/** Undecided approvals are denied after this long (input `approvalTimeoutSeconds`, agent `approval.timeoutSeconds`). */
export const DEFAULT_APPROVAL_TIMEOUT_SECONDS = 24 * 60 * 60;

/** Start-to-close of one tool attempt (tool option `timeout`). */
export const DEFAULT_TOOL_TIMEOUT = '60s';
/** Retry policy of a tool's activity (tool option `retry` overrides each field it names). */
export const DEFAULT_TOOL_RETRY = { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 } as const;

/** Longer tool results are cut, with a note (env `TOOL_RESULT_MAX_CHARS`). */
export const DEFAULT_TOOL_RESULT_MAX_CHARS = 20_000;

/**
 * Past this serialized size the oldest tool results leave the transcript (env `TRANSCRIPT_MAX_CHARS`):
 * far below Temporal's 2 MB payload limit even for text that takes 3 bytes a character.
 */
export const DEFAULT_TRANSCRIPT_MAX_CHARS = 500_000;

/** Longest user message accepted, in characters (keeps payloads far below Temporal's 2 MB limit). */
export const MAX_MESSAGE_CHARS = 100_000;

/** Where the example helpdesk agent records refunds (env `HELPDESK_LEDGER`). */
export const DEFAULT_HELPDESK_LEDGER = '.data/refund-ledger.jsonl';

/**
 * Every error durable-agents raises, in one place: the failure types a run can end with (the `type`
 * of Temporal ApplicationFailures, matched by callers and by `nonRetryableErrorTypes`), and the
 * error classes thrown to the people who configure, define and call agents.
 */

export const ErrorType = {
  /** The workflow input failed validation; the message names every bad field. */
  InvalidAgentInput: 'InvalidAgentInput',
  /**
   * The input names an agent no worker registered (none that took the run within its
   * `UNKNOWN_AGENT_WAIT_SECONDS`); the message names it and lists the agents the last worker knew.
   */
  UnknownAgent: 'UnknownAgent',
  /**
   * Never ends a run: the worker running the run's first task does not register its agent, so the
   * task fails and Temporal hands it to a worker of the queue again, until `UNKNOWN_AGENT_WAIT_SECONDS`.
   */
  AgentNotOnThisWorker: 'AgentNotOnThisWorker',
  /** The model endpoint rejected the credentials (401/403). */
  ModelAuthError: 'ModelAuthError',
  /** The model endpoint rejected the request itself (400/422). */
  ModelBadRequest: 'ModelBadRequest',
  /** The model or endpoint does not exist (404). */
  ModelNotFound: 'ModelNotFound',
  /** Any other 4xx that retrying cannot fix. */
  ModelRequestRejected: 'ModelRequestRejected',
  /** 429: retried after the delay the provider asked for. */
  ModelRateLimited: 'ModelRateLimited',
  /** 408, 409, 5xx: retried with backoff. */
  ModelUnavailable: 'ModelUnavailable',
  /** The request timed out or the connection failed: retried with backoff. */
  ModelUnreachable: 'ModelUnreachable',
  /** The model answered off-spec (content not a string, usage not counts, malformed tool calls): retried like a 5xx. */
  ModelBadResponse: 'ModelBadResponse',
  /**
   * The model server could not parse what the model wrote into a message or tool calls (llama-server's
   * 500 "does not match the expected … format"): asked again a few times, then for an answer without
   * tools; the run fails with this only when that answer cannot be parsed either.
   */
  ModelOutputUnparsed: 'ModelOutputUnparsed',
  /** The model answered with neither text nor a tool call several times in a row. */
  ModelNoAnswer: 'ModelNoAnswer',
  /** `maxCostUsd` is set but a model the run may call has no price, so the budget could not be enforced. */
  UnpricedModel: 'UnpricedModel',
  /** A tool raised a `ToolError`; with `retryable: false` it is not retried. The model reads its message. */
  ToolError: 'ToolError',
  /** A tool threw something other than a `ToolError`: the model reads only that it failed (unless the tool sets `exposeErrors`); the worker log has the error. */
  ToolFailed: 'ToolFailed',
  /** A payload the run was about to send would pass Temporal's limit even after compacting the transcript. */
  PayloadTooLarge: 'PayloadTooLarge',
  /**
   * The tool or agent a call names is not registered on the worker that picked it up; the call is
   * scheduled again (for a worker that registers it) until that worker's `UNKNOWN_AGENT_WAIT_SECONDS`.
   */
  ToolNotRegistered: 'ToolNotRegistered',
  /**
   * Never ends a run: an approval's edited arguments do not fit the tool's schema (or the call was
   * decided meanwhile), so the `approval` update fails and the call waits on for a decision.
   */
  ApprovalArgumentsInvalid: 'ApprovalArgumentsInvalid',
  /**
   * Never ends a run: an update's validator refused it (a message or decision that does not fit, a
   * call that waits for no decision, a run that has ended), so nothing of it reaches the history.
   * Not retryable: the same update gets the same answer.
   */
  UpdateRejected: 'UpdateRejected',
  /**
   * The worker could not rebuild the transcript a model call refers to (its cache and the run's
   * history do not hold it): the run sends that call again with the whole transcript.
   */
  TranscriptUnavailable: 'TranscriptUnavailable',
  /**
   * An MCP server could not be reached: its stdio process would not start or exited, its URL did not
   * answer, or a variable its definition reads is not set on the worker. Retried; then the model reads it.
   */
  McpServerUnavailable: 'McpServerUnavailable',
  /** An MCP server answered a request with a JSON-RPC error, or with what is not MCP. Retried; then the model reads it. */
  McpProtocolError: 'McpProtocolError',
  /** An MCP server did not answer a call within its timeout (the request was cancelled). Retried; then the model reads it. */
  McpTimeout: 'McpTimeout',
  /**
   * Two tools of a run's MCP servers (or one and a tool of the agent) have the same name for the model
   * (`<server>_<tool>`, cut to 64 characters): the run fails at the listing that made them clash.
   */
  McpToolNameClash: 'McpToolNameClash',
  /**
   * The run's history would pass what Temporal allows (50 MB or 51,200 events) before the run could
   * continue as new: the run ends with this instead of being terminated by the server.
   */
  HistoryLimit: 'HistoryLimit',
  /**
   * The model's behaviour: an agent with an output schema kept answering with JSON that does not parse
   * or fit the schema, past `limits.maxOutputRepairs`; the message names what was wrong (never the text).
   */
  OutputInvalid: 'OutputInvalid',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Model failures that end the run at once: retrying cannot change the provider's answer. */
export const NON_RETRYABLE_MODEL_ERRORS: ErrorType[] = [
  ErrorType.ModelAuthError,
  ErrorType.ModelBadRequest,
  ErrorType.ModelNotFound,
  ErrorType.ModelRequestRejected,
];

/** The base of every error class below; `name` is the subclass's, so logs say which one. */
export abstract class DurableAgentsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The agent author's to fix: an agent or tool definition that cannot work, found at worker start-up. */
export class DefinitionError extends DurableAgentsError {}

/** The operator's to fix: a configuration value that cannot work; the message names the variable. */
export class ConfigError extends DurableAgentsError {}

/**
 * A tool's own failure, raised from `execute`. With `retryable: false` the call is not retried and
 * the model reads the message at once: for failures that retrying cannot fix.
 */
export class ToolError extends DurableAgentsError {
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean } = {}) {
    super(message);
    this.retryable = options.retryable ?? true;
  }
}

/** The operator's to fix: a payload was encrypted with a key this process does not hold (env `PAYLOAD_KEYS`). */
export class PayloadKeyError extends DurableAgentsError {}

/** What went wrong for a caller of `AgentClient`, in a message fit for one line of output. */
export const ClientErrorKind = {
  /** Temporal cannot be reached: the operator's network or configuration. */
  unreachable: 'unreachable',
  /** The input was refused before anything was sent: the same checks the run would make. */
  invalidInput: 'invalid_input',
  /** No run has that id. */
  notFound: 'not_found',
  /** The run refused the request (an update's validator or handler said no). */
  rejected: 'rejected',
  /** The run itself failed; `failureType` says how. */
  runFailed: 'run_failed',
  /** The run was cancelled before it finished. */
  runCancelled: 'run_cancelled',
  /** The run was terminated (from the Temporal CLI or Web UI): it ran no code of its own to end. */
  runTerminated: 'run_terminated',
  /** The run exists but has closed, so it takes no more messages or decisions. */
  closed: 'closed',
  /** A run with the id asked for is open already: no run was started (talk to that one). */
  alreadyRunning: 'already_running',
} as const;
export type ClientErrorKind = (typeof ClientErrorKind)[keyof typeof ClientErrorKind];

/** A failed `AgentClient` operation. */
export class AgentClientError extends DurableAgentsError {
  constructor(
    message: string,
    readonly kind: ClientErrorKind,
    /** The ApplicationFailure type a failed run ended with (`ModelAuthError`, ...). */
    readonly failureType?: string,
  ) {
    super(message);
  }
}

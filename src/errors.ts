/**
 * Failure types a run can end with or an activity can raise. They are the `type` of Temporal
 * ApplicationFailures, so callers match on them and `nonRetryableErrorTypes` can name them.
 */
export const ErrorType = {
  /** The workflow input failed validation; the message names every bad field. */
  InvalidAgentInput: 'InvalidAgentInput',
  /** The input names an agent no worker registered; the message lists the known ones. */
  UnknownAgent: 'UnknownAgent',
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
  /** A tool raised an error; `ToolError` with `retryable: false` is not retried. */
  ToolError: 'ToolError',
  /** The tool or agent a call names is not registered on the worker that picked it up. */
  ToolNotRegistered: 'ToolNotRegistered',
} as const;
export type ErrorType = (typeof ErrorType)[keyof typeof ErrorType];

/** Model failures that end the run at once: retrying cannot change the provider's answer. */
export const NON_RETRYABLE_MODEL_ERRORS: ErrorType[] = [
  ErrorType.ModelAuthError,
  ErrorType.ModelBadRequest,
  ErrorType.ModelNotFound,
  ErrorType.ModelRequestRejected,
];

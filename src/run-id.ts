/**
 * What a run id (the workflow id a caller chooses: `start --id`, `AgentClient.start`'s `workflowId`,
 * the `<id>` of every command) may be, checked before anything is sent. Workflow-safe (no Node
 * imports), so a workflow can hold ids to the same rule.
 */
import { AgentClientError, ClientErrorKind, ErrorType } from './errors';
import { utf8Bytes } from './validation';

/**
 * The longest run id, in UTF-8 bytes. Temporal's frontend allows 1,000 (`limit.maxIDLength`), but on
 * SQL persistence (PostgreSQL, MySQL: deploy/compose.yaml runs on PostgreSQL) its schemas store a
 * workflow id in 255 characters: a longer id is refused with an internal error, or leaves a child
 * start stuck (temporalio/temporal#2122, #7506). 255 bytes fit in 255 characters on any store; an id
 * is also shown whole in the Web UI, `list`, logs and every error line, where longer is unreadable.
 */
export const RUN_ID_MAX_BYTES = 255;

/** Control characters (C0, DEL, C1): a newline or an escape sequence in an id breaks every line it is shown in. */
const CONTROL = /\p{Cc}/u;

/** Why `id` cannot be a run id (`must ...`), or undefined when it can. */
export function runIdProblem(id: string): string | undefined {
  if (!id) return 'must not be empty';
  const bytes = utf8Bytes(id);
  if (bytes > RUN_ID_MAX_BYTES) return `must be at most ${RUN_ID_MAX_BYTES} UTF-8 bytes (is ${bytes})`;
  const control = CONTROL.exec(id);
  if (control) {
    const code = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return `must not contain control characters (U+${code} at index ${control.index})`;
  }
  if (id.trim() !== id) return 'must not begin or end with whitespace';
  return undefined;
}

/** Throws the one-line `AgentClientError` a caller shows when `id` cannot be a run id. */
export function checkRunId(id: string): void {
  const problem = runIdProblem(id);
  if (problem) {
    throw new AgentClientError(`invalid run id: ${problem}`, ClientErrorKind.invalidInput, ErrorType.InvalidAgentInput);
  }
}

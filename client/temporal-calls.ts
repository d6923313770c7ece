/**
 * How the client calls Temporal about a run: its handle, by an id checked first, and the wrapper
 * every call goes through, which turns Temporal's errors into one-line AgentClientErrors.
 */
import {
  NamespaceNotFoundError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type { TemporalConfig } from '../src/config';
import { GrpcCode, grpcCode } from '../src/connection-errors';
import { AgentClientError, ClientErrorKind } from '../src/errors';
import { describeFailure } from '../src/failures';
import { checkRunId } from '../src/run-id';
import type { agentRun } from '../workflows';
import { closedWording, runFailure } from './run-failure';
import { quote } from './run-status';
import { connectionError } from './server-connection';

/** Runs a Temporal call (about the run `workflowId`, if any), turning its errors into one-line AgentClientErrors. */
export type Call = <T>(operation: () => Promise<T>, workflowId?: string) => Promise<T>;

/** The handle of the run `workflowId`. */
export function runHandle(client: Client, workflowId: string): WorkflowHandle<typeof agentRun> {
  // Every operation on a run by id comes through here: a bad id fails in one line, before anything is sent.
  checkRunId(workflowId);
  return client.workflow.getHandle<typeof agentRun>(workflowId);
}

/** The `Call` wrapper for calls through `client`, connected as `config` says. */
export function callWrapper(client: Client, config: TemporalConfig): Call {
  return async <T>(operation: () => Promise<T>, workflowId?: string): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError || grpcCode(error) === GrpcCode.notFound) {
        // An update or signal to a run that has closed is answered "not found" too: say which it is.
        const closed = workflowId ? await closedStatus(client, workflowId) : undefined;
        if (closed) throw new AgentClientError(`run ${workflowId} has already ${closed}`, ClientErrorKind.closed);
        throw new AgentClientError(`no run with id ${workflowId}`, ClientErrorKind.notFound);
      }
      if (error instanceof NamespaceNotFoundError) {
        throw new AgentClientError(
          `no namespace ${quote(client.options.namespace)} on Temporal at ${config.TEMPORAL_ADDRESS} ` +
            '(check --namespace, --profile or TEMPORAL_NAMESPACE)',
          ClientErrorKind.notFound,
        );
      }
      if (error instanceof WorkflowUpdateFailedError) {
        throw new AgentClientError(`rejected: ${describeFailure(error.cause).message}`, ClientErrorKind.rejected);
      }
      if (error instanceof WorkflowFailedError) {
        const { kind, failure } = runFailure(error, workflowId);
        throw new AgentClientError(failure.error, kind, failure.type);
      }
      if (grpcCode(error) === GrpcCode.unavailable) throw connectionError(config, error);
      throw error;
    }
  };
}

/** How the run with this id closed (`completed`, `been cancelled`, ...), if it exists and has. */
async function closedStatus(client: Client, workflowId: string): Promise<string | undefined> {
  try {
    const { status } = await runHandle(client, workflowId).describe();
    return status.name === 'RUNNING' ? undefined : closedWording(status.name);
  } catch {
    return undefined;
  }
}

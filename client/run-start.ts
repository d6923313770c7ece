/**
 * Starting a run: its input checked with the schema the run uses and its id chosen and checked, so a
 * bad one fails in one line before anything reaches Temporal; then the start itself, with the run's
 * summary, details and first search attributes, and an id taken by an open run named as such.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { isMemoryWorkflowId, MEMORY_IDS_RESERVED, searchAttributes, WorkflowType } from '../src/contract';
import { AgentClientError, ClientErrorKind, ErrorType } from '../src/errors';
import { agentRunInputSchema, type AgentRunInput } from '../src/input';
import { checkRunId } from '../src/run-id';
import { describeIssues } from '../src/validation';
import type { agentRun } from '../workflows';
import { staticDetails, staticSummary } from './run-details';
import { programName, shellWord } from './shell-hints';
import type { Call } from './temporal-calls';

/** Checks a run's input with the schema the run uses; throws the one-line error a caller shows. */
export function checkRunInput(input: AgentRunInput): void {
  const checked = agentRunInputSchema.safeParse(input);
  if (!checked.success) {
    throw new AgentClientError(
      `invalid input: ${describeIssues(checked.error)}`,
      ClientErrorKind.invalidInput,
      ErrorType.InvalidAgentInput,
    );
  }
}

/**
 * Starts a run of `input` on `taskQueue` with the id `requestedId` (or `<agent>-<uuid>`); returns its
 * id. The input and the id are checked first: nothing is sent for a bad one.
 */
export async function startRun(
  client: Client,
  call: Call,
  taskQueue: string,
  input: AgentRunInput,
  requestedId: string | undefined,
): Promise<string> {
  checkRunInput(input);
  if (requestedId !== undefined) checkRunId(requestedId);
  const workflowId = requestedId ?? `${input.agent}-${randomUUID()}`;
  // The run would refuse it, but only once started: say so before anything is sent.
  if (isMemoryWorkflowId(workflowId)) {
    throw new AgentClientError(
      `invalid run id ${JSON.stringify(workflowId)}: ${MEMORY_IDS_RESERVED}`,
      ClientErrorKind.invalidInput,
      ErrorType.InvalidAgentInput,
    );
  }
  const handle = await call(() =>
    client.workflow
      .start<typeof agentRun>(WorkflowType.agentRun, {
        taskQueue,
        workflowId,
        args: [input],
        staticSummary: staticSummary(input),
        staticDetails: staticDetails(input),
        typedSearchAttributes: [
          { key: searchAttributes.agentName, value: input.agent },
          { key: searchAttributes.agentStatus, value: 'starting' },
          ...(input.userId ? [{ key: searchAttributes.agentUser, value: input.userId }] : []),
        ],
      })
      .catch((error: unknown) => {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
        // The id is taken by a run that is still open: name it, and how to talk to it instead.
        const run = shellWord(workflowId);
        throw new AgentClientError(
          `run ${workflowId} is already running: ${programName()} send ${run} "..." talks to it (a session), ` +
            `${programName()} status ${run} shows it`,
          ClientErrorKind.alreadyRunning,
        );
      }),
  );
  return handle.workflowId;
}

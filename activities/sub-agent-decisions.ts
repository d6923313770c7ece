/**
 * A decision made on a run about a call waiting in one of its sub-agents, made on the sub-agent's run
 * by its own `approval` update. The parent's update waits for it, so it says what counted: the
 * sub-agent's answer, or its refusal (the call decided there meanwhile, or no longer waiting). The
 * update's id is the same across attempts, so a retried one is applied once.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { ForwardedDecisionInput } from '../src/activity-contract';
import { approvalUpdate } from '../src/contract';
import { ErrorType } from '../src/errors';
import { describeFailure, withoutStack } from '../src/failures';

const refusal = (type: string, message: string) =>
  withoutStack(ApplicationFailure.create({ type, message, nonRetryable: true }));

export function createSubAgentDecisionActivities() {
  return {
    /** The sub-agent run's answer to the decision; its refusal fails the activity, not retried. */
    async decideOnSubAgent({ workflowId, decision }: ForwardedDecisionInput): Promise<string> {
      const { client, info } = Context.current();
      const caller = info.workflowExecution;
      const updateId = caller && `forwarded/${caller.workflowId}/${caller.runId}/${info.activityId}`;
      try {
        return await client.workflow
          .getHandle(workflowId)
          .executeUpdate(approvalUpdate, { args: [decision], ...(updateId && { updateId }) });
      } catch (error) {
        if (error instanceof WorkflowUpdateFailedError) {
          const { type, message } = describeFailure(error.cause);
          throw refusal(type ?? ErrorType.UpdateRejected, message);
        }
        if (error instanceof WorkflowNotFoundError) {
          throw refusal(ErrorType.UpdateRejected, `the sub-agent's run ${workflowId} has ended`);
        }
        throw error;
      }
    },
  };
}

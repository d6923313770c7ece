/**
 * Proof that a run really continues its own predecessor, asked by a run handed carried state (the
 * second argument of `agentRun` and `userMemory`). The server, not the input, is the witness: the
 * run's first history event says who started it (`initiator`), which no client can set. Only the
 * workflow's own continue-as-new is accepted; cron runs and workflow retries repeat their first
 * run's arguments, and a plain start (or a reset of one) passes whatever the caller wrote.
 */
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';

const { ContinueAsNewInitiator } = temporal.api.enums.v1;

/** Why carried state is refused, in words for the run's failure; absent when it is accepted. */
export interface ContinuationVerdict {
  refused?: string;
}

const STARTED_BY: Record<number, string> = {
  [ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_RETRY]: 'a workflow retry',
  [ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_CRON_SCHEDULE]: 'a cron schedule',
};

export function createContinuationActivities() {
  return {
    /**
     * Whether the current run was started by its predecessor's own continue-as-new, and that
     * predecessor ran the same workflow type (so our code built what it carried).
     */
    async proveContinuation(): Promise<ContinuationVerdict> {
      const { client, info } = Context.current();
      if (!info.workflowExecution) return { refused: 'the check runs only inside a workflow run' };
      const { workflowId, runId } = info.workflowExecution;
      const { history } = await client.workflowService.getWorkflowExecutionHistory({
        namespace: info.workflowNamespace,
        execution: { workflowId, runId },
        maximumPageSize: 1,
      });
      const started = history?.events?.[0]?.workflowExecutionStartedEventAttributes;
      if (!started) return { refused: "the run's start is not in its history" };
      const initiator = started.initiator ?? ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED;
      if (initiator !== ContinueAsNewInitiator.CONTINUE_AS_NEW_INITIATOR_WORKFLOW || !started.continuedExecutionRunId) {
        return {
          refused: `the run was started by ${STARTED_BY[initiator] ?? 'a caller'}, not by its own continue-as-new`,
        };
      }
      const previous = await client.workflow.getHandle(workflowId, started.continuedExecutionRunId).describe();
      if (previous.type !== info.workflowType) {
        return { refused: `the run continues a ${JSON.stringify(previous.type)} run, not a ${info.workflowType} run` };
      }
      return {};
    },
  };
}

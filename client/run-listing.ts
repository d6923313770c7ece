/**
 * Listing agent runs, newest first: sorted by the server where its visibility store can (`ORDER BY`),
 * here where it cannot (SQL, the dev server's, lists open runs first, then closed ones by close time).
 */
import type { Client } from '@temporalio/client';
import { searchAttributes } from '../src/contract';
import { listQuery, quote, reportedStatus, type ListFilter } from './run-status';
import type { RunSummary } from './run-types';
import type { Call } from './temporal-calls';

/** Lists runs through one client, remembering whether its server sorts a list. */
export class RunListing {
  /** Whether the server sorts a list (`ORDER BY`): learned on the first `list`. */
  private sorts: boolean | undefined;

  constructor(
    private readonly client: Client,
    private readonly call: Call,
  ) {}

  /** Agent runs matching `filter`, newest first (by start time), at most `filter.limit` (50). */
  async list(filter: ListFilter): Promise<RunSummary[]> {
    if (this.sorts !== false) {
      try {
        const runs = await this.listBy(`${listQuery(filter)} ORDER BY StartTime DESC`, filter.limit);
        this.sorts = true;
        return runs;
      } catch (error) {
        // The SDK's error says "Failed to list workflows"; the server's reason is in its cause.
        const cause = (error as { cause?: { details?: unknown; message?: unknown } }).cause;
        const reason = `${(error as Error).message} ${String(cause?.details ?? cause?.message ?? '')}`;
        if (this.sorts || !/ORDER BY/i.test(reason)) throw error;
        this.sorts = false;
      }
    }
    const runs = await this.listBy(listQuery(filter), filter.limit);
    return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
  }

  /** The runs `workflowId` started as sub-agents (their latest execution each). */
  async children(workflowId: string): Promise<RunSummary[]> {
    return this.listBy(`ParentWorkflowId = ${quote(workflowId)} AND ExecutionStatus != "ContinuedAsNew"`, 1_000);
  }

  private async listBy(query: string, limit = 50): Promise<RunSummary[]> {
    const runs: RunSummary[] = [];
    const executions = this.client.workflow.list({ query, pageSize: 100 });
    await this.call(async () => {
      for await (const execution of executions) {
        const attributes = execution.typedSearchAttributes;
        runs.push({
          workflowId: execution.workflowId,
          status: reportedStatus(attributes.get(searchAttributes.agentStatus), execution.status.name),
          agent: attributes.get(searchAttributes.agentName),
          user: attributes.get(searchAttributes.agentUser),
          steps: attributes.get(searchAttributes.agentSteps),
          tokens: attributes.get(searchAttributes.agentTokens),
          costUsd: attributes.get(searchAttributes.agentCostUsd),
          startTime: execution.startTime,
          closed: execution.status.name !== 'RUNNING',
        });
        if (runs.length >= limit) break;
      }
    });
    return runs;
  }
}

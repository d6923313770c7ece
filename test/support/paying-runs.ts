/**
 * The paying runs the chaos and cluster tests drive through their faults (the agent and its ledger:
 * test/chaos/chaos-agent.ts): each run's plan, drawn up front from the test's seed; the scripted
 * model's answers for them; starting them; and noting from visibility how each ended. The verdict on
 * their ledger is ledger-verdict.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowType } from '../../src/contract';
import type { AgentRunResult } from '../../src/types';
import { lastOf, turnOf, type ModelRequest, type Reply } from '../../testing';
import type { agentRun } from '../../workflows';
import type { SeededRandom } from './seeded-random';

/** Model turns that call tools; the turn after them answers. */
export const TOOL_STEPS = 4;

/** One run: what its model asks for (tool calls per step, latency per turn), and what became of it. */
export interface RunPlan {
  index: number;
  workflowId: string;
  /** Tool calls per tool step (1 or 2). */
  calls: number[];
  /** Model latency per turn, ms. */
  delays: number[];
  firstExecutionRunId?: string;
  startedAt?: number;
  closedAt?: number;
  status?: string;
  result?: AgentRunResult;
}

/** A model request of a run as it came: a retry asks for a (run, turn) asked for before. */
export interface ModelCall {
  at: number;
  run: number;
  retry: boolean;
}

/** The arguments of a call: distinct for every call, so no run looks like a model repeating itself. */
export const argsOf = (run: number, step: number, call: number) => ({
  payee: `payee-${run}-${step}-${call}`,
  amountCents: 10_000 * (run + 1) + 100 * step + call,
});

/** The idempotency keys the run's calls must have, in call order. */
export function expectedKeys(run: RunPlan): { key: string; args: ReturnType<typeof argsOf> }[] {
  return run.calls.flatMap((count, turn) =>
    Array.from({ length: count }, (_, call) => ({
      key: `${run.workflowId}/${run.firstExecutionRunId}/${turn + 1}.${call + 1}`,
      args: argsOf(run.index, turn + 1, call + 1),
    })),
  );
}

export class PayingRuns {
  readonly plans: RunPlan[];
  readonly modelCalls: ModelCall[] = [];
  private readonly seenModelCalls = new Set<string>();
  private readonly byWorkflowId: Map<string, RunPlan>;

  /** `count` runs with workflow ids `<idPrefix>-<index>`, drawn with the test's seeded `between`. */
  constructor(
    idPrefix: string,
    count: number,
    between: SeededRandom['between'],
    delayMs: { min: number; max: number },
  ) {
    this.plans = Array.from({ length: count }, (_, index) => ({
      index,
      workflowId: `${idPrefix}-${index}`,
      calls: Array.from({ length: TOOL_STEPS }, () => between(1, 2)),
      delays: Array.from({ length: TOOL_STEPS + 1 }, () => between(delayMs.min, delayMs.max)),
    }));
    this.byWorkflowId = new Map(this.plans.map((run) => [run.workflowId, run]));
  }

  runOf(workflowId: string): RunPlan | undefined {
    return this.byWorkflowId.get(workflowId);
  }

  /** The runs started and not yet seen closed. */
  openRuns(): RunPlan[] {
    return this.plans.filter((run) => run.startedAt && !run.closedAt);
  }

  /**
   * The model's reply to one of these runs (its message names it), or undefined for any other request.
   * It depends on the request alone, so a retried call gets the same reply.
   */
  answer(request: ModelRequest): Reply | undefined {
    const run = this.plans[Number(/chaos run (\d+)/.exec(String(lastOf(request, 'user')?.content))?.[1])];
    if (!run) return undefined;
    const turn = turnOf(request);
    const call = `${run.index}/${turn}`;
    this.modelCalls.push({ at: request.receivedAt, run: run.index, retry: this.seenModelCalls.has(call) });
    this.seenModelCalls.add(call);
    const delayMs = run.delays[Math.min(turn, TOOL_STEPS)];
    if (turn < TOOL_STEPS) {
      const step = turn + 1;
      const calls = Array.from({ length: run.calls[turn] }, (_, call) => ({
        name: 'pay',
        args: argsOf(run.index, step, call + 1),
      }));
      return { kind: 'message', content: null, toolCalls: calls, delayMs };
    }
    // The answer lists the receipts the run's tool calls returned, in order.
    const receipts = request.messages
      .filter((message) => message.role === 'tool')
      .map((message) => {
        try {
          return (JSON.parse(String(message.content)) as { receipt: string }).receipt ?? `!${message.content}`;
        } catch {
          return `!${message.content}`;
        }
      });
    return { kind: 'message', content: `run ${run.index} paid: ${receipts.join(' ')}`, delayMs };
  }

  /** Starts `run`; one already there was started by a call whose answer a fault lost. */
  async start(client: Client, taskQueue: string, run: RunPlan): Promise<void> {
    try {
      const handle = await client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
        taskQueue,
        workflowId: run.workflowId,
        args: [{ agent: 'chaos', message: `chaos run ${run.index}: pay them` }],
      });
      run.firstExecutionRunId = handle.firstExecutionRunId;
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      run.firstExecutionRunId = (await client.workflow.getHandle(run.workflowId).describe()).runId;
    }
    run.startedAt = Date.now();
  }

  /**
   * Notes each run's end from one visibility query a round (it gives the server's close time), until
   * the returned function is called; a round that fails while the server is away is tried again.
   */
  trackCompletions(client: Client, taskQueue: string, pollMs: number): () => Promise<void> {
    let tracking = true;
    const tracker = (async () => {
      while (tracking) {
        try {
          const query = `TaskQueue = "${taskQueue}" AND ExecutionStatus != "Running"`;
          for await (const execution of client.workflow.list({ query })) {
            const run = this.byWorkflowId.get(execution.workflowId);
            if (!run || run.closedAt) continue;
            if (execution.status.name === 'COMPLETED')
              run.result = await client.workflow.getHandle<typeof agentRun>(run.workflowId).result();
            run.status = execution.status.name;
            run.closedAt = execution.closeTime?.getTime() ?? Date.now();
          }
        } catch {
          // The server is away.
        }
        await sleep(pollMs);
      }
    })();
    return async () => {
      tracking = false;
      await tracker;
    };
  }
}

/**
 * The state of one run of `agentRun`: its transcript, progress (steps and usage), last answer, the
 * messages it has yet to answer (the inbox), the calls waiting for a person (approvals) and what it
 * tells the world (the status report). A run starts it fresh or from what its predecessor carried;
 * the workflow's handlers and loop read and change it only through here.
 */
import { allHandlersFinished, condition, workflowInfo } from '@temporalio/workflow';
import type { ParsedAgentRunInput } from '../src/input';
import { Patch } from '../src/patches';
import { hasPatch } from './patch-checks';
import {
  RunStatus,
  type AgentRunResult,
  type AgentRunState,
  type AgentSpec,
  type ChatMessage,
  type StructuredOutput,
} from '../src/types';
import { Approvals } from './approvals';
import type { CarriedState } from './carried-state';
import { Inbox } from './inbox';
import { ParentLink } from './parent-link';
import { RunProgress } from './run-progress';
import { SubAgentTree } from './sub-agent-tree';
import { StatusReport } from './status-report';
import { carriedApprovals, checkEditedArguments } from './tool-calls';
import type { LimitOutcome, StuckOutcome, TurnAnswer } from './turn';

/** A run's result as the workflow returns it. */
export type RunResult = AgentRunResult;

export class RunState {
  readonly messages: ChatMessage[];
  readonly progress: RunProgress;
  /** When the chain of runs began (workflow time): budgets of time count from it. */
  readonly startedAtMs: number;
  lastAnswer: string;
  /** The object of the last answer, for an agent with an output schema. */
  lastOutput: StructuredOutput | undefined;
  /** The spec of the run's own agent: carried, or resolved once the run has started. */
  spec: AgentSpec | undefined;
  /** The spec of the agent a handoff passed the run to last (agent-handoffs.ts); absent before any. */
  handedTo: AgentSpec | undefined;
  readonly approvals: Approvals;
  readonly status: StatusReport;
  readonly inbox: Inbox;
  /** The run's sub-agent calls in flight (none unless its spec has sub-agents). */
  readonly subAgentTree: SubAgentTree;
  /** Set for a sub-agent's run: its reports to the parent run. */
  private readonly parentLink: ParentLink | undefined;

  constructor(
    readonly input: ParsedAgentRunInput,
    readonly carried: CarriedState | undefined,
  ) {
    this.startedAtMs = carried?.startedAtMs ?? Date.now();
    this.spec = carried?.spec;
    this.handedTo = carried?.handedTo;
    this.messages = carried?.messages ?? [];
    this.progress = new RunProgress(carried?.step, carried?.usage, carried?.subAgentUsage);
    this.subAgentTree = new SubAgentTree(
      this.progress,
      () => {
        this.status.report();
        this.status.reportUsage(this.progress.step, this.progress.usage);
      },
      () => this.spec !== undefined && hasPatch(this.spec, Patch.forwardedDecisionsConfirmed),
    );
    const parent = input.subAgent && workflowInfo().parent;
    this.parentLink = parent ? new ParentLink(parent.workflowId) : undefined;
    this.lastAnswer = carried?.lastAnswer ?? '';
    this.lastOutput = carried?.lastOutput;
    // A call waits for approval only once the run has its spec: edits are checked against it.
    this.approvals = new Approvals(
      () => this.status.report(),
      (tool, args) => checkEditedArguments((this.handedTo ?? this.spec)!, tool, args),
      this.subAgentTree,
    );
    if (carried?.turn?.pendingStep) {
      this.approvals.carryOver(carriedApprovals(carried.turn.pendingStep, carried.messages));
    }
    this.status = new StatusReport(
      this.approvals,
      () => this.progress,
      () => this.spec,
      () => this.parentLink?.report(this.progress.usage, this.approvals.pending()),
    );
    // A new run starts with its first message; a continuation with what its predecessor had not answered.
    this.inbox = new Inbox(
      input.mode,
      () => this.status.status,
      carried ? (carried.queued ?? []) : [input.message],
      // A run takes `steer` once its spec says it started with steering (or before its spec exists: it just started).
      () => this.spec === undefined || (this.spec.patches ?? []).includes(Patch.steering),
      carried?.turn && { steering: carried.steering ?? [] },
    );
    if (carried?.ending) this.inbox.end();
  }

  /**
   * The run's status as queries tell it. A continuation is where its predecessor was from its first
   * moment (a query may come before its first step, while it proves its carried state): in a turn, or,
   * with nothing queued, waiting for the next message. (Only the answer: what the run records is left
   * as runs in flight recorded it.)
   */
  private shownStatus(): RunStatus {
    const status = this.status.status;
    if (status !== RunStatus.starting || !this.carried) return status;
    return this.carried.turn || this.carried.queued?.length ? RunStatus.running : RunStatus.awaitingInput;
  }

  /** In runs whose agent can hand off, the agent the run acts as now (its own, or a handoff's); else undefined. */
  private get actingAgent(): string | undefined {
    return this.spec?.handoffs ? (this.handedTo ?? this.spec).name : undefined;
  }

  /** The `state` query's answer. */
  snapshot(): AgentRunState {
    return {
      status: this.shownStatus(),
      agent: this.input.agent,
      mode: this.input.mode,
      userId: this.input.userId,
      step: this.progress.step,
      messages: this.messages,
      usage: this.progress.usage,
      ...this.ownUsage(),
      pendingApprovals: this.approvals.pending(),
      queuedMessages: this.inbox.size,
      ...(this.actingAgent && { activeAgent: this.actingAgent }),
      ...(this.subAgentTree.started.length && { subAgentRuns: this.subAgentTree.started }),
    };
  }

  /** A turn answered its message: its answer (and object) are the run's last. */
  answered({ answer, output }: TurnAnswer): void {
    this.lastAnswer = answer;
    this.lastOutput = output;
  }

  /** The run's output as its result gives it: the last answer's object, else its text. */
  lastResultOutput(): string | StructuredOutput {
    return this.lastOutput ?? this.lastAnswer;
  }

  /** Ends the run with `result`, once every handler (a `chat` waiting for its reply) has returned. */
  async finish(result: Omit<RunResult, 'steps' | 'usage'>): Promise<RunResult> {
    this.inbox.close();
    this.status.end(result.status);
    await condition(allHandlersFinished);
    const answeredBy = this.actingAgent;
    return {
      ...result,
      steps: this.progress.step,
      usage: this.progress.usage,
      ...this.ownUsage(),
      ...(answeredBy && { answeredBy }),
    };
  }

  /** A run with sub-agents (its own agent's, or those of an agent it was handed to) shows its own usage beside the tree's. */
  private ownUsage(): { ownUsage?: AgentRunState['usage'] } {
    return this.spec?.subAgents?.length || this.handedTo?.subAgents?.length ? { ownUsage: this.progress.ownUsage } : {};
  }

  /** Ends the run after a turn that did not answer: stuck, or a budget of the run (not of one session turn). */
  endEarly(outcome: LimitOutcome | StuckOutcome): Promise<RunResult> {
    const unansweredMessages = this.inbox.drain();
    const unanswered = {
      ...(unansweredMessages.length && { unansweredMessages }),
      ...(outcome.outputError !== undefined && { outputError: outcome.outputError }),
    };
    return this.finish(
      'stuck' in outcome
        ? {
            status: RunStatus.stuck,
            reason: `the model repeated ${outcome.stuck}`,
            output: outcome.output ?? outcome.answer,
            ...unanswered,
          }
        : {
            status: RunStatus.limitReached,
            limit: outcome.limit,
            output: outcome.output ?? outcome.answer,
            ...unanswered,
          },
    );
  }

  /** The run failed or was cancelled: waiting callers and the status are told. */
  end(status: typeof RunStatus.failed | typeof RunStatus.cancelled): void {
    this.inbox.close();
    this.status.end(status);
  }
}

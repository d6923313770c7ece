/**
 * What a run tells the world about itself without a query: the `AgentStatus`, `AgentName`,
 * `AgentUser` and usage search attributes (for `list` and the Web UI's filters) and the Web UI's
 * current details. Search attributes are written only when they change: each write is an event.
 */
import { metricMeter, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { searchAttributes } from '../src/contract';
import { formatCost } from '../src/pricing';
import { RunStatus, UsageAttributes, type AgentSpec, type PendingApproval, type Usage } from '../src/types';
import { truncateUtf8, utf8Bytes } from '../src/validation';
import type { Approvals } from './approvals';

/** What of a run's spec decides which attributes it writes, and when. */
type ReportedSpec = Pick<AgentSpec, 'searchAttributes' | 'usageAttributes'>;

export class StatusReport {
  private phase: RunStatus = RunStatus.starting;
  private reported: RunStatus | undefined;
  private agent = '';
  /** Usage not written yet, in a run that writes it with its status only. */
  private unreportedUsage: { step: number; usage: Usage } | undefined;

  constructor(
    private readonly approvals: Approvals,
    private readonly progress: () => { step: number; usage: Usage },
    /** The run's spec, once it has one. */
    private readonly spec: () => ReportedSpec | undefined,
    /** Runs after each report (a sub-agent's run tells its parent). */
    private readonly afterReport: () => void = () => {},
  ) {}

  /** `awaiting_approval` while any call waits for a person, else the loop's phase. */
  get status(): RunStatus {
    return this.approvals.pending().length ? RunStatus.awaitingApproval : this.phase;
  }

  /** Who the run is for; written once, at its start. */
  identify(agent: string, userId: string | undefined): void {
    this.agent = agent;
    upsertSearchAttributes([
      { key: searchAttributes.agentName, value: agent },
      ...(userId ? [{ key: searchAttributes.agentUser, value: userId }] : []),
    ]);
  }

  setPhase(next: RunStatus): void {
    this.phase = next;
    this.report();
  }

  /**
   * The run ends with `status` (a continuation is not an end): the status attribute, and the
   * `agent_runs` metric, which the SDK does not record again when a worker replays the run.
   */
  end(status: RunStatus): void {
    this.setPhase(status);
    metricMeter.createCounter('agent_runs', 'runs', 'Runs ended, by status').add(1, { agent: this.agent, status });
  }

  /** Keeps the status attribute and the Web UI's details current; call after any change of status. */
  report(): void {
    const current = this.status;
    setCurrentDetails(currentDetails(current, this.progress(), this.approvals.pending(), workflowInfo().workflowId));
    if (current !== this.reported) {
      this.reported = current;
      const usage = this.unreportedUsage;
      this.unreportedUsage = undefined;
      upsertSearchAttributes([
        { key: searchAttributes.agentStatus, value: current },
        ...(usage ? this.usageAttributes(usage.step, usage.usage) : []),
      ]);
    }
    this.afterReport();
  }

  /** The usage attributes, after each model call: written now, or with the next status (`UsageAttributes`). */
  reportUsage(step: number, usage: Usage): void {
    if (this.spec()?.usageAttributes === UsageAttributes.withStatus) this.unreportedUsage = { step, usage };
    else upsertSearchAttributes(this.usageAttributes(step, usage));
    this.afterReport();
  }

  private usageAttributes(step: number, usage: Usage) {
    return [
      { key: searchAttributes.agentSteps, value: step },
      { key: searchAttributes.agentTokens, value: usage.totalTokens },
      { key: searchAttributes.agentCostUsd, value: usage.costUsd },
      ...this.tokenKinds(usage),
    ];
  }

  /** The cached and reasoning token counts, where the run keeps their attributes. */
  private tokenKinds(usage: Usage) {
    const kept = this.spec()?.searchAttributes ?? [];
    const { agentCachedTokens: cached, agentReasoningTokens: reasoning } = searchAttributes;
    return [
      ...(kept.includes(cached.name) ? [{ key: cached, value: usage.cachedInputTokens ?? 0 }] : []),
      ...(kept.includes(reasoning.name) ? [{ key: reasoning, value: usage.reasoningTokens ?? 0 }] : []),
    ];
  }
}

/**
 * `text` as a markdown code span, whatever backticks it holds: the Web UI shows it as typed (no curly
 * quotes), so arguments can be copied back into a command.
 */
function codeSpan(text: string): string {
  const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((run) => run[0].length));
  const fence = '`'.repeat(longest + 1);
  const padded = text.startsWith('`') || text.endsWith('`') ? ` ${text} ` : text;
  return `${fence}${padded}${fence}`;
}

/**
 * The Web UI's current details (markdown): status, step, tokens and cost (as the CLI shows it) on the
 * first line, then each call waiting for a person with its arguments (bounded: they are the model's;
 * in a code span, to paste as typed) and the exact commands that decide it.
 */
export function currentDetails(
  status: RunStatus,
  { step, usage }: { step: number; usage: Usage },
  pending: PendingApproval[],
  workflowId: string,
): string {
  const tokens = `${usage.totalTokens} tokens${usage.estimated ? ' (estimated: the endpoint reports no usage)' : ''}`;
  const summary = `**${status}** · step ${step} · ${tokens} · ${formatCost(usage)}`;
  if (!pending.length) return summary;
  const calls = pending.map(({ callId, tool, args }) => {
    const json = JSON.stringify(args);
    const shown = utf8Bytes(json) > 200 ? `${truncateUtf8(json, 200)}…` : json;
    return (
      `- \`${tool}\` ${codeSpan(shown)} (call ${callId}): ` +
      `\`durable-agents approve ${workflowId} ${callId}\` or \`durable-agents deny ${workflowId} ${callId} --note "why"\``
    );
  });
  return [summary, '', '**Awaiting approval**', ...calls].join('\n');
}

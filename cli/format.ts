/**
 * How the CLI shows runs to people (`--json` prints the raw objects instead).
 */
import { addBilledParts, formatCost, formatDollars } from '../src/pricing';
import { terminalSafe } from '../src/terminal-text';
import type { AgentRunResult, AgentRunState, ChatMessage, RunOutput, Usage } from '../src/types';
import type { ApprovalRecord } from '../client/approval-records';
import { tokenCount, withDecisions } from './export-writers';
import type { RunTranscript, StepUsage } from '../client/history-transcript';
import type { RunTreeNode } from '../client/run-tree';
import type { RunReport, RunSummary } from '../client/run-types';
import { programName, shellWord, startWorkerHint } from '../client/shell-hints';
import type { WaitNotice } from '../client/waiting';

/** What estimated usage says after its figures: where they come from. */
export const ESTIMATED_USAGE = 'estimated: the endpoint reported no usage';

export function formatUsage(usage: Usage): string {
  // As the Web UI's details show it too (src/pricing.ts).
  const cost = formatCost(usage);
  const estimated = usage.estimated ? ` (${ESTIMATED_USAGE})` : '';
  const input = tokenCount(usage.inputTokens, usage.cachedInputTokens, 'cached');
  const output = tokenCount(usage.outputTokens, usage.reasoningTokens, 'reasoning');
  return `${usage.totalTokens} tokens (${input} in, ${output} out), ${cost}${estimated}`;
}

/** One transcript entry as a line or two; the system prompt is left out. */
export function formatMessage(message: ChatMessage): string | undefined {
  switch (message.role) {
    case 'system':
      return undefined;
    case 'user':
      return `user: ${message.content}`;
    case 'assistant': {
      const calls = (message.tool_calls ?? []).map((call) =>
        formatToolCall(call.function.name, call.function.arguments),
      );
      return [...(message.content ? [`assistant: ${message.content}`] : []), ...calls].join('\n');
    }
    case 'tool':
      return formatToolResult(message.content);
  }
}

/** A tool call, as transcripts and `watch` show it. */
export function formatToolCall(tool: string, args: string): string {
  return `  → ${tool}(${args})`;
}

/** A tool's result, as transcripts and `watch` show it: its first 300 characters. */
export function formatToolResult(content: string): string {
  return `  ← ${content.length > 300 ? `${content.slice(0, 297)}...` : content}`;
}

export function formatTranscript(messages: ChatMessage[]): string {
  return messages.map(formatMessage).filter(Boolean).join('\n');
}

/** An open run's state, as `status` shows it; given the run's id, each pending approval with the command that gives it. */
export function formatState(state: AgentRunState, workflowId?: string): string {
  const decide = (callId: string) =>
    workflowId === undefined ? '' : ` — ${programName()} approve ${shellWord(workflowId)} ${callId}`;
  return [
    `status: ${state.status}`,
    `agent: ${state.agent} (${state.mode})${state.userId ? `, user ${state.userId}` : ''}`,
    // After a handoff the run acts as another agent (docs/handoffs.md).
    ...(state.activeAgent && state.activeAgent !== state.agent ? [`active agent: ${state.activeAgent}`] : []),
    `steps: ${state.step}`,
    `usage: ${formatUsage(state.usage)}`,
    ...(state.queuedMessages ? [`queued messages: ${state.queuedMessages}`] : []),
    ...(state.pendingApprovals.length
      ? [
          'pending approvals:',
          ...state.pendingApprovals.map((p) => `  ${p.callId}  ${p.tool} ${JSON.stringify(p.args)}${decide(p.callId)}`),
        ]
      : []),
  ].join('\n');
}

/** How a run ended, without its output: status, steps and usage, and a stuck run's reason and unanswered messages. */
export function formatOutcome(result: AgentRunResult): string {
  return [
    `status: ${result.status}${result.limit ? ` (${result.limit})` : ''} · steps: ${result.steps} · ${formatUsage(result.usage)}`,
    ...(result.answeredBy ? [`answered by: ${result.answeredBy}`] : []),
    ...(result.reason ? [`reason: ${result.reason}`] : []),
    ...(result.outputError ? [`output: ${result.outputError}`] : []),
    ...(result.unansweredMessages?.length
      ? ['unanswered messages:', ...result.unansweredMessages.map((text) => `  ${text}`)]
      : []),
  ].join('\n');
}

/** A run's answer as printed: its text, or the object of an agent with an output schema as JSON. */
export function formatAnswer(output: RunOutput): string {
  return typeof output === 'string' ? output : JSON.stringify(output, null, 2);
}

export function formatResult(result: AgentRunResult): string {
  return [formatAnswer(result.output), '', formatOutcome(result)].join('\n');
}

/**
 * Rows under a header, each column as wide as its widest cell, two spaces apart. Cells are made inert
 * here, as the CLI prints them, so that a control character shown as its escape keeps the columns aligned.
 */
function table(header: string[], rows: string[][]): string {
  const cells = [header, ...rows].map((row) => row.map(terminalSafe));
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column].length)));
  return cells
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Per model call: step, model, tokens in and out (cached and reasoning apart), cost and latency; then the totals. */
export function formatSteps(steps: StepUsage[]): string {
  const row = (step: string, model: string, usage: Omit<StepUsage, 'step' | 'model'>) => [
    step,
    model,
    tokenCount(usage.inputTokens, usage.cachedInputTokens, 'cached', usage.estimated),
    tokenCount(usage.outputTokens, usage.reasoningTokens, 'reasoning', usage.estimated),
    formatDollars(usage.costUsd),
    `${usage.seconds.toFixed(2)} s`,
  ];
  const total = steps.reduce(
    (sum, step) => ({
      inputTokens: sum.inputTokens + step.inputTokens,
      outputTokens: sum.outputTokens + step.outputTokens,
      ...addBilledParts(sum, step),
      costUsd: sum.costUsd + step.costUsd,
      seconds: sum.seconds + step.seconds,
      ...((sum.estimated || step.estimated) && { estimated: true as const }),
    }),
    { inputTokens: 0, outputTokens: 0, costUsd: 0, seconds: 0 } as Omit<StepUsage, 'step' | 'model'>,
  );
  const rows = table(
    ['STEP', 'MODEL', 'IN', 'OUT', 'COST', 'LATENCY'],
    [...steps.map((step) => row(String(step.step), step.model, step)), row('total', '', total)],
  );
  return total.estimated ? `${rows}\n~ ${ESTIMATED_USAGE}` : rows;
}

/** A decision, without the call it was on: approved or denied, by whom, where, when, the note and any edit. */
export function formatDecision(record: ApprovalRecord): string {
  const who = [record.decidedBy && `by ${record.decidedBy}`, `via ${record.via}`].filter(Boolean).join(' ');
  return [
    `${record.approved ? 'approved' : 'denied'} ${who} at ${record.at}`,
    ...(record.note ? [`note: ${record.note}`] : []),
    ...(record.args ? [`ran with edited arguments ${JSON.stringify(record.args)}`] : []),
  ].join(' · ');
}

/** Each decision on a line of its own, with its call: what `status` lists. */
export function formatApprovals(records: ApprovalRecord[]): string[] {
  if (!records.length) return [];
  return [
    'approvals:',
    ...records.map((record) => `  ${record.callId}  ${record.tool ?? '?'}  ${formatDecision(record)}`),
  ];
}

/**
 * `transcript`: the messages as `watch` shows them, each decision on a call under the message that
 * made it, then the per-step usage. Decisions on calls the transcript no longer holds (compacted)
 * follow the messages.
 */
export function formatRunTranscript(transcript: RunTranscript): string {
  const lines = withDecisions(
    transcript,
    formatMessage,
    (records) => records.map((record) => `  ${record.approved ? '✓' : '✗'} ${record.callId} ${formatDecision(record)}`),
    formatApprovals,
  );
  const own = [...lines.filter(Boolean), '', formatSteps(transcript.steps)].join('\n');
  // Each sub-agent's transcript after the run's, under a line that says whose it is.
  const nested = (transcript.subAgents ?? []).map(
    (sub) =>
      `\n── sub-agent ${terminalSafe(sub.agent ?? '?')} (${terminalSafe(sub.workflowId)}) ──\n${formatRunTranscript(sub)}`,
  );
  return [own, ...nested].join('\n');
}

export function formatRunList(runs: RunSummary[]): string {
  if (!runs.length) return 'no runs';
  const rows = runs.map((run) => [
    run.workflowId,
    String(run.status),
    run.agent ?? '',
    run.user ?? '',
    String(run.steps ?? 0),
    String(run.tokens ?? 0),
    formatDollars(run.costUsd ?? 0),
    run.startTime.toISOString(),
  ]);
  return table(['ID', 'STATUS', 'AGENT', 'USER', 'STEPS', 'TOKENS', 'COST', 'STARTED'], rows);
}

/**
 * A run's sub-agents as an indented tree, a line each: agent, status, steps, the tokens and cost of its
 * tree (with its own where it has sub-agents of its own) and its id.
 */
export function formatSubAgentTree(nodes: RunTreeNode[]): string[] {
  const lines: string[] = [];
  const walk = (level: RunTreeNode[], depth: number) => {
    for (const node of level) {
      const own = node.subAgents.length ? ` (own ${node.ownTokens} tokens, ${formatDollars(node.ownCostUsd)})` : '';
      lines.push(
        `${'  '.repeat(depth)}${terminalSafe(node.agent ?? '?')} · ${node.status} · ${node.steps ?? 0} steps · ` +
          `${node.tokens ?? 0} tokens · ${formatDollars(node.costUsd ?? 0)}${own} · ${terminalSafe(node.workflowId)}`,
      );
      walk(node.subAgents, depth + 1);
    }
  };
  walk(nodes, 1);
  return lines.length ? ['Sub-agents:', ...lines] : [];
}

/** What a waiting command says on stderr while it waits, one line per notice (per approval). */
export function formatWaitNotice(notice: WaitNotice): string {
  switch (notice.type) {
    case 'no_worker': {
      const only =
        notice.missing.length > 1 ? '' : notice.missing[0] === 'workflow' ? ' for workflow tasks' : ' for activities';
      return `waiting: no worker is polling task queue "${notice.taskQueue}"${only} (${startWorkerHint(notice.taskQueue)})`;
    }
    case 'no_answer':
      // What is known: a worker polled the queue within the last minute, and the run has not answered.
      return (
        `waiting: the run has not answered for ${notice.waitedMs / 1_000} s; a worker polled task queue ` +
        `"${notice.taskQueue}" within the last minute (busy, or stopped since; if none runs, ` +
        `${startWorkerHint(notice.taskQueue)})`
      );
    case 'worker_found':
      return `waiting: a worker is polling task queue "${notice.taskQueue}" now`;
    case 'awaiting_approval':
      return notice.pendingApprovals
        .map(
          (approval) =>
            `awaiting approval ${approval.callId} ${approval.tool} — ` +
            `${programName()} approve ${shellWord(notice.workflowId)} ${approval.callId}`,
        )
        .join('\n');
  }
}

/**
 * A run's status from its report, for a run that could not answer itself: closed (its ending from
 * history) or without a worker (what it last recorded). A failure's reason is the command's error line.
 */
export function formatReport(report: RunReport): string {
  const { result } = report;
  const usage = report.usage
    ? formatUsage(report.usage)
    : `${report.tokens ?? 0} tokens, ${formatDollars(report.costUsd ?? 0)}`;
  return [
    `status: ${report.status}${result?.limit ? ` (${result.limit})` : ''}`,
    ...(report.agent ? [`agent: ${report.agent}${report.userId ? `, user ${report.userId}` : ''}`] : []),
    `steps: ${report.step ?? 0}`,
    `usage: ${usage}`,
    ...(result?.answeredBy ? [`answered by: ${result.answeredBy}`] : []),
    ...(result?.reason ? [`reason: ${result.reason}`] : []),
    ...(report.closeTime ? [`closed: ${report.closeTime.toISOString()}`] : []),
  ].join('\n');
}

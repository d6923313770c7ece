/**
 * How the CLI shows runs to people (`--json` prints the raw objects instead).
 */
import type { AgentRunResult, AgentRunState, ChatMessage, Usage } from '../src/types';
import type { RunSummary } from './agent-client';

export function formatUsage(usage: Usage): string {
  const cost = `$${usage.costUsd.toFixed(6)}${usage.costKnown ? '' : ' (some models unpriced)'}`;
  return `${usage.totalTokens} tokens (${usage.inputTokens} in, ${usage.outputTokens} out), ${cost}`;
}

/** One transcript entry as a line or two; the system prompt is left out. */
export function formatMessage(message: ChatMessage): string | undefined {
  switch (message.role) {
    case 'system':
      return undefined;
    case 'user':
      return `user: ${message.content}`;
    case 'assistant': {
      const calls = (message.tool_calls ?? []).map((call) => `  → ${call.function.name}(${call.function.arguments})`);
      return [...(message.content ? [`assistant: ${message.content}`] : []), ...calls].join('\n');
    }
    case 'tool':
      return `  ← ${message.content.length > 300 ? `${message.content.slice(0, 297)}...` : message.content}`;
  }
}

export function formatTranscript(messages: ChatMessage[]): string {
  return messages.map(formatMessage).filter(Boolean).join('\n');
}

export function formatState(state: AgentRunState): string {
  return [
    `status: ${state.status}`,
    `agent: ${state.agent} (${state.mode})${state.userId ? `, user ${state.userId}` : ''}`,
    `steps: ${state.step}`,
    `usage: ${formatUsage(state.usage)}`,
    ...(state.queuedMessages ? [`queued messages: ${state.queuedMessages}`] : []),
    ...(state.pendingApprovals.length
      ? [
          'pending approvals:',
          ...state.pendingApprovals.map((p) => `  ${p.callId}  ${p.tool} ${JSON.stringify(p.args)}`),
        ]
      : []),
  ].join('\n');
}

export function formatResult(result: AgentRunResult): string {
  return [
    result.output,
    '',
    `status: ${result.status}${result.limit ? ` (${result.limit})` : ''} · steps: ${result.steps} · ${formatUsage(result.usage)}`,
    ...(result.reason ? [`reason: ${result.reason}`] : []),
    ...(result.unansweredMessages?.length
      ? ['unanswered messages:', ...result.unansweredMessages.map((text) => `  ${text}`)]
      : []),
  ].join('\n');
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
    run.startTime.toISOString(),
  ]);
  const header = ['ID', 'STATUS', 'AGENT', 'USER', 'STEPS', 'TOKENS', 'STARTED'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/**
 * The ways `durable-agents export` writes a run's transcript (`AgentClient.transcript`): markdown for
 * people, JSON lines (a message a line, then the usage), and a Chat Completions request that replays
 * it against its model. The first two hold every decision on a call that awaited approval, under the
 * message that made the call; the request holds what the model read of them (a denial's or an
 * approval's note, edited arguments) in the tool results.
 */
import type { ChatMessage } from '../src/types';
import { wireMessages } from '../src/wire-messages';
import type { ApprovalRecord } from '../client/approval-records';
import type { RunTranscript } from '../client/history-transcript';

export const EXPORT_FORMATS = ['md', 'jsonl', 'openai'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * A token count with the part of it billed apart, if any: `1200 (1000 cached)`, `400 (300 reasoning)`;
 * an estimated count (the endpoint reported no usage) reads `~120`.
 */
export function tokenCount(count: number, part: number | undefined, label: string, estimated?: boolean): string {
  return `${estimated ? '~' : ''}${count}${part ? ` (${part} ${label})` : ''}`;
}

/** A fence for `text` in markdown: longer than any run of backticks in it. */
function fenced(text: string, language = ''): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${text}\n${fence}`;
}

function markdownMessage(message: ChatMessage): string {
  switch (message.role) {
    case 'system':
    case 'user':
      return `## ${message.role}\n\n${message.content}`;
    case 'assistant': {
      const calls = (message.tool_calls ?? []).map(
        (call) => `- tool call \`${call.function.name}\` (${call.id}):\n\n${fenced(call.function.arguments, 'json')}`,
      );
      return ['## assistant', ...(message.content ? [message.content] : []), ...calls].join('\n\n');
    }
    case 'tool':
      return `## tool (${message.tool_call_id})\n\n${fenced(message.content)}`;
  }
}

/**
 * The per-step usage as a markdown table, with a total row; cached input and reasoning read
 * `1200 (1000 cached)`, estimated counts `~120`, with a note.
 */
function markdownSteps(transcript: RunTranscript): string {
  const { usage } = transcript;
  const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [
    row(['step', 'model', 'tokens in', 'tokens out', 'cost (USD)', 'latency (s)']),
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...transcript.steps.map((step) =>
      row([
        step.step,
        step.model,
        tokenCount(step.inputTokens, step.cachedInputTokens, 'cached', step.estimated),
        tokenCount(step.outputTokens, step.reasoningTokens, 'reasoning', step.estimated),
        step.costUsd.toFixed(6),
        step.seconds.toFixed(2),
      ]),
    ),
    row([
      'total',
      '',
      tokenCount(usage.inputTokens, usage.cachedInputTokens, 'cached', usage.estimated),
      tokenCount(usage.outputTokens, usage.reasoningTokens, 'reasoning', usage.estimated),
      usage.costUsd.toFixed(6),
      transcript.steps.reduce((sum, step) => sum + step.seconds, 0).toFixed(2),
    ]),
    ...(usage.estimated ? ['', '~ estimated: the endpoint reported no usage for these calls'] : []),
  ].join('\n');
}

/**
 * The transcript's messages, each followed by the decisions on the calls it made; decisions on calls
 * the transcript no longer holds (compacted) come last.
 */
export function withDecisions<T>(
  transcript: RunTranscript,
  message: (message: ChatMessage) => T,
  decisions: (records: ApprovalRecord[]) => T[],
  rest: (records: ApprovalRecord[]) => T[] = decisions,
): T[] {
  const placed = new Set<ApprovalRecord>();
  const items = transcript.messages.flatMap((entry) => {
    const calls = entry.role === 'assistant' ? (entry.tool_calls ?? []) : [];
    const made = transcript.approvals.filter((record) => calls.some((call) => call.id === record.toolCallId));
    made.forEach((record) => placed.add(record));
    return [message(entry), ...decisions(made)];
  });
  return [...items, ...rest(transcript.approvals.filter((record) => !placed.has(record)))];
}

/** A decision as a markdown line: what, on which call, who, where, when, the note and any edit. */
function markdownDecision(record: ApprovalRecord): string {
  const who = [record.decidedBy && `by ${record.decidedBy}`, `via ${record.via}`].filter(Boolean).join(' ');
  return [
    `- **${record.approved ? 'approved' : 'denied'}** call ${record.callId}${record.tool ? ` \`${record.tool}\`` : ''} ${who} at ${record.at}`,
    ...(record.note ? [`  - note: ${record.note}`] : []),
    ...(record.args ? [`  - ran with edited arguments: \`${JSON.stringify(record.args)}\``] : []),
  ].join('\n');
}

export function exportMarkdown(transcript: RunTranscript, level = 1): string {
  const heading = '#'.repeat(level);
  return [
    `${heading} ${level > 1 ? 'Sub-agent run' : 'Run'} ${transcript.workflowId}`,
    [`- agent: ${transcript.agent ?? '(unknown)'}`, `- status: ${transcript.status}`].join('\n'),
    ...withDecisions(transcript, markdownMessage, (records) =>
      records.length ? [`${heading}# approvals\n\n${records.map(markdownDecision).join('\n')}`] : [],
    ),
    `${heading}# usage`,
    markdownSteps(transcript),
    // Sub-agents' transcripts, nested one heading level down, in the order they were called.
    ...(transcript.subAgents ?? []).map((sub) => exportMarkdown(sub, level + 1)),
  ].join('\n\n');
}

/**
 * One JSON object a line: each message (`type: "message"`), each decision on a call after the message
 * that made it (`type: "approval"`), then the usage (`type: "usage"`); then each sub-agent's run the
 * same way, every line of it naming the run (`workflowId`).
 */
export function exportJsonl(transcript: RunTranscript, nested = false): string {
  const { workflowId, agent, status, steps, usage } = transcript;
  const run = nested ? { workflowId } : {};
  return [
    ...withDecisions(
      transcript,
      (message) => JSON.stringify({ type: 'message', ...run, ...message }),
      (records) => records.map((record) => JSON.stringify({ type: 'approval', ...run, ...record })),
    ),
    JSON.stringify({ type: 'usage', workflowId, agent, status, ...usage, steps }),
    ...(transcript.subAgents ?? []).map((sub) => exportJsonl(sub, true)),
  ].join('\n');
}

/** A Chat Completions request body that replays the transcript against its model, as the run sent it. */
export function exportOpenAi(transcript: RunTranscript): string {
  const tools = transcript.tools.map(({ name, description, parameters }) => ({
    type: 'function',
    function: { name, description, parameters },
  }));
  return JSON.stringify(
    { model: transcript.model, messages: wireMessages(transcript.messages), ...(tools.length && { tools }) },
    null,
    2,
  );
}

export function exportTranscript(transcript: RunTranscript, format: ExportFormat): string {
  switch (format) {
    case 'md':
      return exportMarkdown(transcript);
    case 'jsonl':
      return exportJsonl(transcript);
    case 'openai':
      return exportOpenAi(transcript);
  }
}

/**
 * The ways `durable-agents export` writes a run's transcript (`AgentClient.transcript`): markdown for
 * people, JSON lines (a message a line, then the usage), and a Chat Completions request that replays
 * it against its model.
 */
import type { ChatMessage } from '../src/types';
import type { RunTranscript } from '../client/history-transcript';

export const EXPORT_FORMATS = ['md', 'jsonl', 'openai'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

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

/** The per-step usage as a markdown table, with a total row. */
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
        step.inputTokens,
        step.outputTokens,
        step.costUsd.toFixed(6),
        step.seconds.toFixed(2),
      ]),
    ),
    row([
      'total',
      '',
      usage.inputTokens,
      usage.outputTokens,
      usage.costUsd.toFixed(6),
      transcript.steps.reduce((sum, step) => sum + step.seconds, 0).toFixed(2),
    ]),
  ].join('\n');
}

export function exportMarkdown(transcript: RunTranscript): string {
  return [
    `# Run ${transcript.workflowId}`,
    [`- agent: ${transcript.agent ?? '(unknown)'}`, `- status: ${transcript.status}`].join('\n'),
    ...transcript.messages.map(markdownMessage),
    '## usage',
    markdownSteps(transcript),
  ].join('\n\n');
}

/** One JSON object a line: each message (`type: "message"`), then the usage (`type: "usage"`). */
export function exportJsonl(transcript: RunTranscript): string {
  const { workflowId, agent, status, steps, usage } = transcript;
  return [
    ...transcript.messages.map((message) => JSON.stringify({ type: 'message', ...message })),
    JSON.stringify({ type: 'usage', workflowId, agent, status, ...usage, steps }),
  ].join('\n');
}

/** A Chat Completions request body that replays the transcript against its model. */
export function exportOpenAi(transcript: RunTranscript): string {
  const tools = transcript.tools.map(({ name, description, parameters }) => ({
    type: 'function',
    function: { name, description, parameters },
  }));
  return JSON.stringify(
    { model: transcript.model, messages: transcript.messages, ...(tools.length && { tools }) },
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

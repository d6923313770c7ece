/**
 * What a run says about itself from its start, in the Web UI and `describe()`: a one-line static
 * summary (`helpdesk: Where is order 1042?`) and static details in markdown (the first message,
 * bounded, then the agent, model, mode, user and limits). Both are made of the run's input alone.
 */
import type { AgentRunInput } from '../src/input';
import { truncateUtf8, utf8Bytes } from '../src/validation';

/** How much of the first message the summary shows, in characters. */
export const SUMMARY_MESSAGE_CHARS = 60;
/** How much of the first message the details show, in UTF-8 bytes. */
export const DETAILS_MESSAGE_BYTES = 2_048;

/** `helpdesk: <the first 60 characters of the message, on one line>`. */
export function staticSummary(input: AgentRunInput): string {
  const message = input.message.replace(/\s+/g, ' ').trim();
  const preview =
    message.length > SUMMARY_MESSAGE_CHARS ? `${message.slice(0, SUMMARY_MESSAGE_CHARS - 3)}...` : message;
  return `${input.agent}: ${preview}`;
}

/** `value` as inline code, whatever backticks it holds. */
function code(value: string): string {
  const longest = Math.max(0, ...(value.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return longest ? `${fence} ${value} ${fence}` : `${fence}${value}${fence}`;
}

/** `text` in a fenced block, fenced longer than any run of backticks in it. */
function fenced(text: string): string {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}\n${text}\n${fence}`;
}

/** `maxSteps 5, maxCostUsd 0.5`. */
function listed(values: Record<string, unknown>): string {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined && typeof value !== 'object')
    .map(([name, value]) => `${name} ${String(value)}`)
    .join(', ');
}

/** The run's static details (markdown): its first message (bounded), then agent, model, mode, user and limits. */
export function staticDetails(input: AgentRunInput): string {
  const { limits, fallbackModels } = input;
  const shown =
    utf8Bytes(input.message) > DETAILS_MESSAGE_BYTES
      ? `${truncateUtf8(input.message, DETAILS_MESSAGE_BYTES)}…`
      : input.message;
  const { lifetime, ...turn } = limits ?? {};
  const timeouts = listed({
    idleTimeoutSeconds: input.idleTimeoutSeconds,
    approvalTimeoutSeconds: input.approvalTimeoutSeconds,
  });
  const model = input.model ?? (fallbackModels?.length ? '(the agent default)' : undefined);
  return [
    '**First message**',
    '',
    fenced(shown),
    '',
    `- agent: ${code(input.agent)}`,
    ...(model ? [`- model: ${input.model ? code(input.model) : model}`] : []),
    ...(fallbackModels?.length ? [`- fallback models: ${fallbackModels.map(code).join(', ')}`] : []),
    `- mode: ${input.mode ?? 'task'}`,
    ...(input.userId ? [`- user: ${code(input.userId)}`] : []),
    ...(listed(turn) ? [`- limits: ${listed(turn)}`] : []),
    ...(lifetime && listed(lifetime) ? [`- lifetime limits: ${listed(lifetime)}`] : []),
    ...(timeouts ? [`- timeouts: ${timeouts}`] : []),
  ].join('\n');
}

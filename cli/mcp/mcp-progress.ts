/**
 * A run's progress as MCP progress notifications: each thing the run does (a step's text so far, a
 * tool call and its result, an approval it waits for, a status change) is one notification, its
 * message bounded, while the client that asked (with a `progressToken`) is there to hear it. The
 * follow ends with the run, when the request is aborted, or when a notification cannot be sent (the
 * client went away: the run goes on, only the telling stops).
 */
import type { ProgressToken, ServerNotification } from '@modelcontextprotocol/sdk/types.js';
import type { AgentClient, RunStreamEvent, StreamOptions } from '../../client/agent-client';

/** Characters of text a progress message quotes at most (the tail of a step's text, a tool's arguments). */
export const PROGRESS_QUOTE_CHARS = 400;

/** Where progress goes: the request's own notification channel, for the token its client sent. */
export interface ProgressSink {
  progressToken: ProgressToken;
  sendNotification(notification: ServerNotification): Promise<void>;
  signal: AbortSignal;
}

/** `text` cut to its last `PROGRESS_QUOTE_CHARS` characters (the newest part of what is being written). */
function tail(text: string): string {
  return text.length > PROGRESS_QUOTE_CHARS ? `…${text.slice(-PROGRESS_QUOTE_CHARS)}` : text;
}

/** `text` cut to its first `PROGRESS_QUOTE_CHARS` characters. */
function head(text: string): string {
  return text.length > PROGRESS_QUOTE_CHARS ? `${text.slice(0, PROGRESS_QUOTE_CHARS)}…` : text;
}

/** Tells one event in a line; `written` keeps each step's text so far. Undefined: nothing to tell. */
export function progressMessage(event: RunStreamEvent, written: Map<number, string>): string | undefined {
  switch (event.type) {
    case 'text': {
      const text = (written.get(event.step) ?? '') + event.text;
      written.set(event.step, text);
      return `step ${event.step}: ${tail(text)}`;
    }
    case 'retry':
      written.delete(event.step);
      return `step ${event.step}: the model call is retried${event.failure ? ` (${head(event.failure)})` : ''}`;
    // The model's own ids of tool calls are left out: approvals name calls by the run's ids (`1.1`).
    case 'tool_call':
      return `calling ${event.tool} ${head(event.args)}`;
    case 'tool_result':
      return `tool result: ${head(event.content)}`;
    case 'approval':
      return `call ${event.callId} (${event.tool}) awaits approval: agent_approve decides it`;
    case 'status':
      return `status: ${event.status}`;
    case 'untaken':
      return `waiting for a worker to take ${event.call.summary ?? event.call.type}`;
    case 'assistant':
      return event.answer ? `answer: ${head(event.text)}` : undefined;
    default:
      return undefined;
  }
}

/** Tells a run's events to a sink, one notification each, `progress` counting up as the protocol asks. */
export class ProgressTeller {
  private readonly written = new Map<number, string>();
  private progress = 0;

  constructor(private readonly sink: ProgressSink) {}

  /** Sends what `event` says, if anything; throws when the notification cannot be sent. */
  async tell(event: RunStreamEvent): Promise<void> {
    const message = progressMessage(event, this.written);
    if (message !== undefined) await this.say(message);
  }

  /** Sends `message` as the next progress; throws when the notification cannot be sent. */
  async say(message: string): Promise<void> {
    this.progress += 1;
    await this.sink.sendNotification({
      method: 'notifications/progress',
      params: { progressToken: this.sink.progressToken, progress: this.progress, message },
    });
  }
}

/**
 * Follows run `runId` and sends its progress to `sink` until the run ends, the sink's signal aborts,
 * or a notification fails. Never throws: progress is told as it can be, the answer comes anyway.
 */
export async function sendRunProgress(
  agents: AgentClient,
  runId: string,
  sink: ProgressSink,
  options: Pick<StreamOptions, 'from'> & { started?: string } = {},
): Promise<void> {
  const teller = new ProgressTeller(sink);
  try {
    // First the run's id, so that a client can follow or approve it (agent_status, agent_approve) while it waits.
    if (options.started) await teller.say(`started run ${options.started}`);
    for await (const event of agents.stream(runId, { from: options.from, signal: sink.signal }))
      await teller.tell(event);
  } catch {
    // The client is gone, or the run could not be read: the tool's answer says what became of the run.
  }
}

/**
 * The user messages a run has received and not yet answered, in order: queued by the `message`
 * signal or the `chat` update, whose caller waits here for the reply to its own message.
 */
import { ApplicationFailure, condition, log } from '@temporalio/workflow';
import { Bounds } from '../src/defaults';
import { userMessageSchema } from '../src/input';
import { RunMode, type RunStatus, type UserMessage } from '../src/types';
import { withoutStack } from '../src/failures';
import { describeIssues, serializedBytes } from '../src/validation';

export interface QueuedMessage {
  text: string;
  /** Set for a `chat` update waiting for this message's reply. */
  turnId?: number;
}

export class Inbox {
  private readonly queue: QueuedMessage[] = [];
  private readonly replies = new Map<number, string>();
  private nextTurnId = 1;
  private endRequested = false;
  private closed = false;
  /** Bytes of `message` signals received by this run, accepted or not: history holds them all. */
  private signalBytes = 0;

  /**
   * `statusOf` names the run's status in the answer to a `chat` the run ended before answering;
   * `waiting` are the messages the run starts with (its first, or those its predecessor carried).
   */
  constructor(
    private readonly mode: RunMode,
    private readonly statusOf: () => RunStatus,
    waiting: string[],
  ) {
    this.queue.push(...waiting.map((text) => ({ text })));
  }

  get size(): number {
    return this.queue.length;
  }

  /** Whether the `end` signal arrived. */
  get ending(): boolean {
    return this.endRequested;
  }

  /** The next message to answer, oldest first. */
  take(): QueuedMessage | undefined {
    return this.queue.shift();
  }

  /** Hands the reply to the `chat` caller waiting for it, if any. */
  answer(message: QueuedMessage, reply: string): void {
    if (message.turnId !== undefined) this.replies.set(message.turnId, reply);
  }

  /** The run has ended: waiting `chat` callers are told so. */
  close(): void {
    this.closed = true;
  }

  /** The messages not yet answered, taken out of the queue: the run ends without answering them. */
  drain(): string[] {
    return this.queue.splice(0).map((message) => message.text);
  }

  /** The `message` signal's handler. */
  receive(message: unknown): void {
    // A signal cannot be refused; `chat` and `enqueue` are the validated ways in. Say what was dropped and why.
    if (this.mode !== RunMode.session) {
      log.warn('message signal ignored', { reason: 'this run is a task, not a session: it takes no further messages' });
      return;
    }
    this.signalBytes += serializedBytes(message);
    if (this.signalBytes > Bounds.signalBytesPerRun) {
      log.warn('message signal ignored', {
        reason: `this run's signal budget of ${Bounds.signalBytesPerRun} bytes is spent`,
      });
      return;
    }
    const parsed = userMessageSchema.safeParse(message);
    if (!parsed.success) {
      log.warn('message signal ignored', { reason: describeIssues(parsed.error) });
      return;
    }
    this.queue.push({ text: parsed.data.text });
  }

  /** The `enqueue` update's handler (validated by `validateMessage`): queues the message and returns at once. */
  enqueue(message: UserMessage): string {
    this.queue.push({ text: userMessageSchema.parse(message).text });
    return `queued (${this.queue.length} waiting)`;
  }

  /** The `end` signal's handler. */
  end(): void {
    this.endRequested = true;
  }

  /** The validator of the `chat` and `enqueue` updates. */
  validateMessage(message: unknown): void {
    if (this.mode !== RunMode.session)
      throw new Error(
        'this run is a task, not a session: start it with mode "session" (durable-agents start --session)',
      );
    if (this.closed || this.endRequested) throw new Error('this session has ended');
    const parsed = userMessageSchema.safeParse(message);
    if (!parsed.success) throw new Error(describeIssues(parsed.error));
  }

  /** The `chat` update's handler: queues the message and returns the reply to it. */
  async chat(message: UserMessage): Promise<string> {
    const turnId = this.nextTurnId++;
    this.queue.push({ text: userMessageSchema.parse(message).text, turnId });
    await condition(() => this.replies.has(turnId) || this.closed);
    const reply = this.replies.get(turnId);
    this.replies.delete(turnId);
    if (reply === undefined) {
      throw withoutStack(
        ApplicationFailure.create({ message: `the run ended (${this.statusOf()}) before answering this message` }),
      );
    }
    return reply;
  }
}

/**
 * The user messages a run has received and not yet answered, in order: queued by the `message`
 * signal or the `chat` update, whose caller waits here for the reply to its own message; and the
 * `steer` messages waiting to join the turn in progress at its next step.
 */
import { ApplicationFailure, condition, log } from '@temporalio/workflow';
import { Bounds } from '../src/defaults';
import { userMessageSchema } from '../src/input';
import { RunMode, type RunStatus, type StructuredOutput, type UserMessage } from '../src/types';
import { updateRejected, withoutStack } from '../src/failures';
import { describeIssues, serializedBytes } from '../src/validation';

export interface QueuedMessage {
  text: string;
  /** Set for a `chat` update waiting for this message's reply. */
  turnId?: number;
}

export class Inbox {
  private readonly queue: QueuedMessage[] = [];
  /** `steer` messages for the turn in progress, oldest first; those left when it ends are queued. */
  private readonly steering: string[] = [];
  /** Whether a turn is in progress (a task run is in its one turn from the start). */
  private inTurn: boolean;
  private readonly replies = new Map<number, string | StructuredOutput>();
  private nextTurnId = 1;
  private endRequested = false;
  private closed = false;
  /** Bytes of `message` signals and `steer` updates received by this run: history holds them all. */
  private signalBytes = 0;

  /**
   * `statusOf` names the run's status in the answer to a `chat` the run ended before answering;
   * `waiting` are the messages the run starts with (its first, or those its predecessor carried);
   * `carried`, what a predecessor handed over in the middle of a turn: its steering not yet joined.
   * `steerable`: whether the run takes `steer` (its spec says it started with steering).
   */
  constructor(
    private readonly mode: RunMode,
    private readonly statusOf: () => RunStatus,
    waiting: string[],
    private readonly steerable: () => boolean,
    carried?: { steering: string[] },
  ) {
    this.queue.push(...waiting.map((text) => ({ text })));
    this.inTurn = mode === RunMode.task || carried !== undefined;
    this.steering.push(...(carried?.steering ?? []));
  }

  get size(): number {
    return this.queue.length;
  }

  /** Whether the `end` signal arrived. */
  get ending(): boolean {
    return this.endRequested;
  }

  /** The next message to answer, oldest first: its turn begins. */
  take(): QueuedMessage | undefined {
    this.inTurn = true;
    return this.queue.shift();
  }

  /**
   * The turn answering `message` ended: the reply goes to the `chat` caller waiting for it, if any,
   * and steering that came too late to join the turn is queued, as `enqueue` would have queued it.
   */
  answer(message: QueuedMessage, reply: string | StructuredOutput): void {
    if (message.turnId !== undefined) this.replies.set(message.turnId, reply);
    this.inTurn = false;
    this.queue.push(...this.steering.splice(0).map((text) => ({ text })));
  }

  /** The steering for the turn's next step, taken. */
  takeSteering(): string[] {
    return this.steering.splice(0);
  }

  /** Steering not yet joined, for a continuation of the turn (which joins it at its next step). */
  pendingSteering(): string[] {
    return [...this.steering];
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

  /**
   * The `steer` update's handler (validated by `validateSteer`): the message joins the turn in
   * progress at its next step or, between turns, is queued.
   */
  steer(message: UserMessage): string {
    this.signalBytes += serializedBytes(message);
    const { text } = userMessageSchema.parse(message);
    if (!this.inTurn) {
      this.queue.push({ text });
      return `queued (${this.queue.length} waiting): no turn is in progress`;
    }
    this.steering.push(text);
    return 'accepted: it joins the turn in progress at its next step';
  }

  /** The validator of the `steer` update: a message like `chat`'s, for task runs and sessions, within the signal budget. */
  validateSteer(message: unknown): void {
    if (!this.steerable()) {
      throw updateRejected('this run started before steering existed: send it a message, or cancel it');
    }
    this.validateOpen();
    if (this.signalBytes + serializedBytes(message) > Bounds.signalBytesPerRun) {
      throw updateRejected(`this run's budget of ${Bounds.signalBytesPerRun} bytes of messages is spent`);
    }
    this.validateText(message);
  }

  /** The `end` signal's handler. */
  end(): void {
    this.endRequested = true;
  }

  /** The validator of the `chat` and `enqueue` updates. */
  validateMessage(message: unknown): void {
    if (this.mode !== RunMode.session)
      throw updateRejected(
        'this run is a task, not a session: start it with mode "session" (durable-agents start --session)',
      );
    this.validateOpen();
    this.validateText(message);
  }

  private validateOpen(): void {
    if (this.closed || this.endRequested)
      throw updateRejected(`this ${this.mode === RunMode.session ? 'session' : 'run'} has ended`);
  }

  private validateText(message: unknown): void {
    const parsed = userMessageSchema.safeParse(message);
    if (!parsed.success) throw updateRejected(describeIssues(parsed.error));
  }

  /** The `chat` update's handler: queues the message and returns the reply to it. */
  async chat(message: UserMessage): Promise<string | StructuredOutput> {
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

/**
 * The worker's side of transcripts sent by reference: a bounded in-memory cache of recent runs'
 * transcripts, and on a miss (another worker ran the previous call, this one restarted or evicted
 * it) a rebuild from the run's own history, where every earlier delta is recorded. Either way the
 * result is checked against the call's fingerprint; when it cannot be had, the call fails with
 * `TranscriptUnavailable` and the run resends the transcript whole.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { historyPayloadDecoder } from '../src/history-payloads';
import { callRecordsOf } from '../src/recorded-calls';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import { applyParts, Fingerprints, TranscriptMismatch, type TranscriptDelta } from '../src/transcript-delta';
import { TRANSCRIPT_ACTIVITY_TYPES, TranscriptReplay, type TranscriptCarrier } from '../src/transcript-replay';
import type { ChatMessage } from '../src/types';
import { serializedBytes } from '../src/validation';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
type Payload = temporal.api.common.v1.IPayload;

/** One run's history, and how to read its payloads (through the worker's codecs). */
export interface RunHistory {
  events: HistoryEvent[];
  decode(payload: Payload): Promise<unknown>;
}

/** The run a call belongs to. */
export interface RunRef {
  workflowId: string;
  runId: string;
}

interface Entry {
  fingerprint: string;
  messages: ChatMessage[];
  bytes: number;
}

/** A run's history through the client of the worker running the current activity (its codecs decrypt). */
export async function readRunHistory({ workflowId, runId }: RunRef): Promise<RunHistory> {
  const { client } = Context.current();
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  return { events: history.events ?? [], decode: historyPayloadDecoder(client.options.loadedDataConverter) };
}

function unavailable(message: string): ApplicationFailure {
  return withoutStack(
    ApplicationFailure.create({ type: ErrorType.TranscriptUnavailable, message, nonRetryable: true }),
  );
}

/** The transcript with fingerprint `wanted` among those `history` records, if any. */
export async function findTranscript(
  history: RunHistory,
  wanted: string,
  replay = new TranscriptReplay(),
): Promise<ChatMessage[] | undefined> {
  const carriesTranscript = (type: string) => TRANSCRIPT_ACTIVITY_TYPES.includes(type);
  for (const event of history.events) {
    await replay.startedWith(event, history.decode);
    for (const record of await callRecordsOf(event, history.decode, carriesTranscript)) {
      if (record.kind === 'scheduled') replay.messagesOf(record.input as TranscriptCarrier);
    }
    const found = replay.find(wanted);
    if (found) return found;
  }
  return undefined;
}

export class TranscriptStore {
  /** Most recently used last. */
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly fingerprints = new Fingerprints();

  constructor(
    /** The cache's bound: least recently used runs go first. */
    private readonly maxBytes: number,
    /** Reads a run's history, for a cache miss. */
    private readonly readHistory: (run: RunRef) => Promise<RunHistory>,
  ) {}

  /** Runs cached, and their size: for tests and diagnostics. */
  get size(): { runs: number; bytes: number } {
    return { runs: this.entries.size, bytes: this.bytes };
  }

  /** The transcript a call's input carries, whole or by reference. */
  async resolve(carrier: TranscriptCarrier, run: RunRef | undefined): Promise<ChatMessage[]> {
    if (carrier.messages) return carrier.messages;
    if (!carrier.transcript) throw unavailable('the call carries no transcript');
    const delta = carrier.transcript;
    // A retried call: the worker already made this transcript on an earlier attempt.
    const made = run && this.entries.get(run.workflowId);
    if (made && made.fingerprint === delta.fingerprint) return made.messages;
    if (delta.base !== undefined && !run)
      throw unavailable('a call outside a workflow run must carry its transcript whole');
    const base = delta.base === undefined ? [] : await this.base(delta.base, run!);
    let messages: ChatMessage[];
    try {
      messages = applyParts(base, delta.parts);
    } catch (error) {
      if (error instanceof TranscriptMismatch) throw unavailable(error.message);
      throw error;
    }
    if (this.fingerprints.of(messages) !== delta.fingerprint) {
      throw unavailable(`the rebuilt transcript does not match fingerprint ${delta.fingerprint}`);
    }
    if (run) this.remember(run.workflowId, delta, messages);
    return messages;
  }

  private async base(fingerprint: string, run: RunRef): Promise<ChatMessage[]> {
    const cached = this.entries.get(run.workflowId);
    if (cached?.fingerprint === fingerprint) {
      this.entries.delete(run.workflowId);
      this.entries.set(run.workflowId, cached);
      return cached.messages;
    }
    let found: ChatMessage[] | undefined;
    try {
      found = await findTranscript(await this.readHistory(run), fingerprint, new TranscriptReplay(this.fingerprints));
    } catch (error) {
      throw unavailable(`reading the run's history failed: ${(error as Error).message}`);
    }
    if (!found) throw unavailable(`the run's history holds no transcript ${fingerprint}`);
    if (this.fingerprints.of(found) !== fingerprint) {
      throw unavailable(`the transcript rebuilt from history does not match fingerprint ${fingerprint}`);
    }
    return found;
  }

  private remember(workflowId: string, delta: TranscriptDelta, messages: ChatMessage[]): void {
    const previous = this.entries.get(workflowId);
    if (previous) {
      this.entries.delete(workflowId);
      this.bytes -= previous.bytes;
    }
    const bytes = serializedBytes(messages);
    if (bytes > this.maxBytes) return;
    this.entries.set(workflowId, { fingerprint: delta.fingerprint, messages, bytes });
    this.bytes += bytes;
    for (const [id, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
    }
  }
}

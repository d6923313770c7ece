/**
 * Transcripts read back from a run's history: every model call's input is recorded there, whole
 * (runs started before transcripts went by reference) or as a delta on an earlier one, so replaying
 * the inputs in order gives each call's full transcript. The worker does this when its cache misses;
 * the client does it to export a run's transcript.
 */
import type { temporal } from '@temporalio/proto';
import { applyParts, Fingerprints, type TranscriptDelta } from './transcript-delta';
import type { ChatMessage } from './types';

/** Activity types whose input carries the run's transcript. */
export const TRANSCRIPT_ACTIVITY_TYPES: readonly string[] = ['callModel', 'summarizeConversation'];

/** The part of such an activity's input read here. */
export interface TranscriptCarrier {
  /** The whole transcript (runs started before deltas, and calls resent after a failed rebuild). */
  messages?: ChatMessage[];
  transcript?: TranscriptDelta;
}

export class TranscriptReplay {
  private readonly known = new Map<string, ChatMessage[]>();

  constructor(readonly fingerprints = new Fingerprints()) {}

  /** The transcript a continued run started with (its continue-as-new input): the base of its first delta. */
  carried(messages: ChatMessage[]): void {
    this.known.set(this.fingerprints.of(messages), messages);
  }

  /**
   * Takes the carried transcript from `event` when it is a continued run's start event (the run's
   * second input); any other event is passed over. `decode` reads a payload of the history.
   */
  async startedWith(
    event: temporal.api.history.v1.IHistoryEvent,
    decode: (payload: temporal.api.common.v1.IPayload) => Promise<unknown>,
  ): Promise<void> {
    const payload = event.workflowExecutionStartedEventAttributes?.input?.payloads?.[1];
    if (!payload) return;
    const state = (await decode(payload)) as { messages?: unknown } | undefined;
    if (Array.isArray(state?.messages)) this.carried(state.messages as ChatMessage[]);
  }

  /**
   * The full transcript of one recorded input, in history order; undefined if the input carries none
   * or its base was never seen. Throws `TranscriptMismatch` if the parts do not fit their base.
   */
  messagesOf(input: TranscriptCarrier): ChatMessage[] | undefined {
    if (input.messages) return input.messages;
    const delta = input.transcript;
    if (!delta) return undefined;
    const base = delta.base === undefined ? [] : this.known.get(delta.base);
    if (!base) return undefined;
    const messages = applyParts(base, delta.parts);
    this.known.set(delta.fingerprint, messages);
    return messages;
  }

  /** A transcript seen so far with this (claimed) fingerprint. */
  find(fingerprint: string): ChatMessage[] | undefined {
    return this.known.get(fingerprint);
  }
}

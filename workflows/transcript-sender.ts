/**
 * Sends the transcript to model calls by reference: each call's input holds what changed since the
 * run's previous call and a fingerprint of the whole, and the worker rebuilds the rest (from its cache,
 * or from this run's history, where every earlier delta is). Runs started before this send it whole.
 * Local model calls get it whole (a local activity's input never leaves the worker) and echo the delta.
 */
import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import { ErrorType } from '../src/errors';
import { DeltaEncoder } from '../src/transcript-delta';
import type { TranscriptCarrier } from '../src/transcript-replay';
import type { AgentSpec, ChatMessage } from '../src/types';
import { hasPatch, Patch } from './patch-checks';

/** Whether a call failed because its worker could not rebuild the transcript it refers to. */
function transcriptUnavailable(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === ErrorType.TranscriptUnavailable
  );
}

export class TranscriptSender {
  private readonly encoder: DeltaEncoder;

  /**
   * `carried`: the transcript this run continued with, which its history holds (its input). When the
   * spec's model calls are local activities, whose inputs history does not hold, they get the
   * transcript whole and echo the delta in their results, which it does hold.
   */
  constructor(
    private spec: Pick<AgentSpec, 'patches' | 'modelCall'>,
    carried: readonly ChatMessage[] = [],
  ) {
    this.encoder = new DeltaEncoder(carried);
  }

  /** After a handoff: calls go as the new agent's spec says (local or not); the deltas go on from the last call. */
  follow(spec: Pick<AgentSpec, 'patches' | 'modelCall'>): void {
    this.spec = spec;
  }

  /**
   * Calls `call` with `messages` as its transcript: by reference when the run can, else whole. A call
   * the worker could not rebuild the transcript for is made again with the whole transcript.
   */
  async send<T>(messages: readonly ChatMessage[], call: (carrier: TranscriptCarrier) => Promise<T>): Promise<T> {
    if (!hasPatch(this.spec, Patch.transcriptByReference)) return call({ messages: [...messages] });
    if (this.spec.modelCall.local) return call({ messages: [...messages], transcript: this.encoder.next(messages) });
    try {
      return await call({ transcript: this.encoder.next(messages) });
    } catch (error) {
      if (!transcriptUnavailable(error)) throw error;
      log.warn('the worker could not rebuild the transcript; sending it whole', {
        reason: (error as ActivityFailure).cause?.message,
      });
      this.encoder.startFrom();
      return call({ transcript: this.encoder.next(messages) });
    }
  }
}

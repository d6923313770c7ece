/**
 * A transcript sent by reference. A model call's input carries only what changed since the run's
 * previous model call (the messages kept from it, by position, and the new ones) and a fingerprint
 * of the whole; the worker rebuilds the transcript from its cache or from the run's own history,
 * where every earlier delta is recorded. So a run's history grows with its conversation, not with
 * the square of it. Workflow-safe: the workflow, the activities and the client all use this.
 */
import { sha256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { ChatMessage } from './types';

/** SHA-256 of `text` in UTF-8, as hex. */
function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** A stretch of the transcript: messages kept from the base (`[from, to)`), or new ones. */
export type TranscriptPart = { keep: [from: number, to: number] } | { add: ChatMessage[] };

/** A transcript as a model call's input carries it. */
export interface TranscriptDelta {
  /** Fingerprint of the transcript the parts edit; absent for an empty base (the whole transcript is in `add`). */
  base?: string;
  parts: TranscriptPart[];
  /** Fingerprint of the transcript the parts make: what the worker checks its rebuild against. */
  fingerprint: string;
}

/**
 * Fingerprints of transcripts, remembering each message's own hash so that a message is hashed once
 * however many transcripts it is part of (a message object is never changed in place: compaction
 * and summaries replace it). Cryptographic (SHA-256): a worker takes a transcript it holds for the
 * one a call names by its fingerprint, and users write most of a transcript, so no one may be able
 * to write one that passes for another.
 */
export class Fingerprints {
  private readonly hashes = new WeakMap<ChatMessage, string>();

  of(messages: readonly ChatMessage[]): string {
    return `${messages.length}:${sha256Hex(messages.map((message) => this.hashOf(message)).join(''))}`;
  }

  private hashOf(message: ChatMessage): string {
    let hash = this.hashes.get(message);
    if (hash === undefined) {
      hash = sha256Hex(JSON.stringify(message));
      this.hashes.set(message, hash);
    }
    return hash;
  }
}

/** Thrown when parts do not fit their base: a history that does not hold what the delta assumes. */
export class TranscriptMismatch extends Error {}

/** The transcript `parts` make from `base`. */
export function applyParts(base: readonly ChatMessage[], parts: readonly TranscriptPart[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const part of parts) {
    if ('add' in part) {
      messages.push(...part.add);
      continue;
    }
    const [from, to] = part.keep;
    if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= base.length)) {
      throw new TranscriptMismatch(`keep [${from}, ${to}) is outside a base of ${base.length} messages`);
    }
    messages.push(...base.slice(from, to));
  }
  return messages;
}

/**
 * The parts that make `messages` from `base`: runs of messages that are the very objects of the base
 * (kept, by position) and the rest (added). Identity, not equality: the workflow never edits a
 * message in place, so an object it sent before is a message the worker already has.
 */
export function diffParts(base: readonly ChatMessage[], messages: readonly ChatMessage[]): TranscriptPart[] {
  const positions = new Map<ChatMessage, number>();
  base.forEach((message, index) => positions.set(message, index));
  const parts: TranscriptPart[] = [];
  for (const message of messages) {
    const position = positions.get(message);
    const last = parts.at(-1);
    if (position === undefined) {
      if (last && 'add' in last) last.add.push(message);
      else parts.push({ add: [message] });
    } else if (last && 'keep' in last && last.keep[1] === position) {
      last.keep[1] = position + 1;
    } else {
      parts.push({ keep: [position, position + 1] });
    }
  }
  return parts;
}

/**
 * Makes each transcript of a run a delta on the one before: what a worker that has the previous
 * transcript needs to make this one. Starts from `carried` (the transcript a continued run started
 * with, which its history holds) or from nothing.
 */
export class DeltaEncoder {
  readonly fingerprints = new Fingerprints();
  private sent: readonly ChatMessage[] = [];
  private sentFingerprint: string | undefined;

  constructor(carried: readonly ChatMessage[] = []) {
    this.startFrom(carried);
  }

  /** The delta that makes `messages`; from then on the worker is taken to have `messages`. */
  next(messages: readonly ChatMessage[]): TranscriptDelta {
    const snapshot = [...messages];
    const fingerprint = this.fingerprints.of(snapshot);
    const delta: TranscriptDelta = {
      ...(this.sentFingerprint !== undefined && { base: this.sentFingerprint }),
      parts: this.sent.length ? diffParts(this.sent, snapshot) : [{ add: snapshot }],
      fingerprint,
    };
    this.sent = snapshot;
    this.sentFingerprint = fingerprint;
    return delta;
  }

  /** Starts over from `base`: the next delta is on it (on nothing, by default: the whole transcript). */
  startFrom(base: readonly ChatMessage[] = []): void {
    this.sent = [...base];
    this.sentFingerprint = base.length ? this.fingerprints.of(base) : undefined;
  }
}

/**
 * The payload codec that keeps what agents saw out of Temporal's database: every payload a worker or
 * client sends is encrypted with AES-256-GCM, and only processes holding the key read it back.
 *
 * An encrypted payload's data is `iv (12 bytes) | ciphertext | tag (16 bytes)`, the plaintext being the
 * whole original Payload proto (its metadata included, so the encoding of the value is hidden too); its
 * metadata says `encoding: binary/encrypted` and which key (`encryption-key-id`) encrypted it.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec, SerializationContext } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { PayloadKeyError } from '../src/errors';
import { KEY_ID_PATTERN, type PayloadKeyring } from './keys';

const ENCRYPTED_ENCODING = 'binary/encrypted';
const KEY_ID_METADATA = 'encryption-key-id';

const CIPHER = 'aes-256-gcm';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');
const text = (bytes: Uint8Array | null | undefined): string | undefined =>
  bytes ? Buffer.from(bytes).toString('utf8') : undefined;

/** Whether `payload` is one this codec encrypted (by its metadata alone; nothing is decrypted). */
function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

export interface EncryptionCodecOptions {
  /**
   * Called with every `PayloadKeyError` before `decode` throws it, with the run or activity the
   * payload belongs to (when the SDK says). A worker logs it and counts it: the task that carried
   * the payload fails (and is retried, for a worker holding the key), the process goes on.
   */
  onKeyError?: (error: PayloadKeyError, context?: SerializationContext) => void;
}

export class EncryptionCodec implements PayloadCodec {
  constructor(
    private readonly keyring: PayloadKeyring,
    private readonly options: EncryptionCodecOptions = {},
  ) {}

  /** Encrypts every payload with the first key; without keys, payloads pass unchanged. */
  async encode(payloads: Payload[]): Promise<Payload[]> {
    const { encrypting } = this.keyring;
    return encrypting ? payloads.map((payload) => this.encrypt(payload, encrypting)) : payloads;
  }

  /** Decrypts encrypted payloads; others (from before encryption was turned on) pass unchanged. */
  async decode(payloads: Payload[], context?: SerializationContext): Promise<Payload[]> {
    try {
      return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
    } catch (error) {
      if (error instanceof PayloadKeyError) this.options.onKeyError?.(error, context);
      throw error;
    }
  }

  private encrypt(payload: Payload, { id, key }: NonNullable<PayloadKeyring['encrypting']>): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, key, iv);
    const ciphertext = cipher.update(temporal.api.common.v1.Payload.encode(payload).finish());
    const data = Buffer.concat([iv, ciphertext, cipher.final(), cipher.getAuthTag()]);
    return { metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(id) }, data };
  }

  private decrypt(payload: Payload): Payload {
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    // The id comes from history, which we do not trust: repeat it only once it is known to be a plain id.
    if (id === undefined || !KEY_ID_PATTERN.test(id)) {
      throw new PayloadKeyError('an encrypted payload names no valid key id');
    }
    const key = this.keyring.keys.get(id);
    if (!key) {
      const held = [...this.keyring.keys.keys()].map((known) => `"${known}"`).join(', ');
      throw new PayloadKeyError(
        held
          ? `a payload is encrypted with key "${id}", which PAYLOAD_KEYS here lacks (it holds ${held})`
          : `a payload is encrypted with key "${id}", but PAYLOAD_KEYS is not set here`,
      );
    }
    // GCM says only "unable to authenticate": a wrong key under the right id and an altered payload look alike.
    const failed = new PayloadKeyError(
      `a payload encrypted with key "${id}" failed authentication: the key PAYLOAD_KEYS holds under "${id}" is not the one it was encrypted with, or the payload was altered`,
    );
    const data = payload.data ?? new Uint8Array();
    if (data.length < IV_BYTES + TAG_BYTES) throw failed;
    const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plaintext: Buffer;
    try {
      plaintext = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw failed;
    }
    // Authenticated, so written by this codec: a proto that does not parse would be our own bug, not input.
    return temporal.api.common.v1.Payload.decode(plaintext);
  }
}

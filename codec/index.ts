/**
 * Payloads encrypted at rest: the codec workers and clients put in their data converter, the keys it
 * uses (env `PAYLOAD_KEYS`), and the codec server that lets the Web UI and the `temporal` CLI read them.
 */
import type { PayloadCodec } from '@temporalio/common';
import { EncryptionCodec, type EncryptionCodecOptions } from './encryption-codec';
import { NO_PAYLOAD_KEYS, parsePayloadKeys } from './keys';

export { EncryptionCodec, type EncryptionCodecOptions } from './encryption-codec';
export { parsePayloadKeys, type PayloadKeyring } from './keys';
export { parseUiOrigin, startCodecServer, type CodecServer, type CodecServerOptions } from './server';

/**
 * The payload codecs for a data converter, from the raw `PAYLOAD_KEYS` (a `ConfigError` if malformed).
 * Without keys the codec passes every payload through as it is, and only turns an encrypted one into a
 * `PayloadKeyError` that says keys are missing (instead of the converter's "Unknown encoding").
 */
export function payloadCodecs(rawKeys: string | undefined, options?: EncryptionCodecOptions): PayloadCodec[] {
  return [new EncryptionCodec(rawKeys ? parsePayloadKeys(rawKeys) : NO_PAYLOAD_KEYS, options)];
}

/**
 * The payload keys of this process, from env `PAYLOAD_KEYS`: comma-separated `id:base64key` pairs.
 * The first key encrypts; every key decrypts, so a new key goes in front and the old ones stay behind
 * it for as long as runs they encrypted may still be read.
 */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { ConfigError } from '../src/errors';

/** AES-256 takes a 32-byte key. */
const KEY_BYTES = 32;

/** What a key id may look like: it travels in every encrypted payload's metadata, so it is short and plain. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

/** Standard or URL-safe base64, padded or not; anything else is a typo we should not guess around. */
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

const HOW_TO_MAKE_ONE = 'generate one with: openssl rand -base64 32';

/** The keys one process holds. Key bytes live only in `KeyObject`s, which never print their material. */
export interface PayloadKeyring {
  /** The key new payloads are encrypted with: the first of `PAYLOAD_KEYS`; none when it is unset. */
  readonly encrypting?: { readonly id: string; readonly key: KeyObject };
  /** Every key this process can decrypt with, by id, in the order `PAYLOAD_KEYS` lists them. */
  readonly keys: ReadonlyMap<string, KeyObject>;
}

function problem(message: string): ConfigError {
  return new ConfigError(`PAYLOAD_KEYS: ${message}`);
}

/** A process without `PAYLOAD_KEYS`: it encrypts nothing and can decrypt nothing. */
export const NO_PAYLOAD_KEYS: PayloadKeyring = { keys: new Map() };

/**
 * Parses `PAYLOAD_KEYS`. Throws a `ConfigError` that names the variable and the entry at fault, and
 * never repeats any part of an entry that might be key material (only ids that passed their check).
 */
export function parsePayloadKeys(raw: string): PayloadKeyring {
  const keys = new Map<string, KeyObject>();
  const entries = raw.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const position = `entry ${index + 1} of ${entries.length}`;
    if (!entry) throw problem(`${position} is empty; expected comma-separated id:base64key pairs`);
    const colon = entry.indexOf(':');
    if (colon < 0) throw problem(`${position} is not id:base64key (it has no ':')`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) {
      throw problem(`${position}: a key id is 1 to 64 characters of A-Z a-z 0-9 _ . -`);
    }
    if (keys.has(id)) throw problem(`${position}: key id "${id}" is listed twice`);
    if (!BASE64.test(encoded)) throw problem(`key "${id}" is not base64 (${HOW_TO_MAKE_ONE})`);
    const bytes = Buffer.from(encoded, 'base64');
    if (bytes.length !== KEY_BYTES) {
      throw problem(
        `key "${id}" is ${bytes.length} bytes after base64 decoding; AES-256 needs exactly ${KEY_BYTES} (${HOW_TO_MAKE_ONE})`,
      );
    }
    keys.set(id, createSecretKey(bytes));
  });
  const [id, key] = [...keys][0];
  return { encrypting: { id, key }, keys };
}

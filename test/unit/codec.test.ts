/**
 * The payload codec and its keys: what it writes reveals nothing, any listed key reads it back, and
 * everything else (a missing key, a wrong one, an altered payload, a malformed PAYLOAD_KEYS) fails
 * with a typed error that names what is wrong and never repeats key material.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { EncryptionCodec, parsePayloadKeys, payloadCodecs } from '../../codec';
import { loadCodecServerConfig, loadTemporalConfig, loadWorkerConfig } from '../../src/config';
import { ConfigError, PayloadKeyError } from '../../src/errors';
import { thrown } from '../support/thrown';

const newKey = () => randomBytes(32).toString('base64');
const [keyA, keyB] = [newKey(), newKey()];
const codecWith = (raw: string, onKeyError?: (error: PayloadKeyError) => void) =>
  new EncryptionCodec(parsePayloadKeys(raw), { onKeyError });

const SECRET = 'Ada Byron, order 1042, card ending 4242';
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

/** The decode error of `codec` on `payloads`, which must be a PayloadKeyError. */
async function keyError(codec: EncryptionCodec, payloads: Payload[]): Promise<PayloadKeyError> {
  const error = await codec.decode(payloads).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error instanceof PayloadKeyError) return error;
  throw new Error(`expected a PayloadKeyError, got ${String(error)}`);
}

describe('EncryptionCodec', () => {
  it('encrypts the whole payload, metadata included, and decrypts it back exactly', async () => {
    const codec = codecWith(`A:${keyA}`);
    const original = payloadOf({ message: SECRET });
    const [encrypted] = await codec.encode([original]);
    expect(Object.keys(encrypted.metadata!).sort()).toEqual(['encoding', 'encryption-key-id']);
    expect(text(encrypted.metadata!.encoding)).toBe('binary/encrypted');
    expect(text(encrypted.metadata!['encryption-key-id'])).toBe('A');
    const stored = JSON.stringify(encrypted) + Buffer.from(encrypted.data!).toString('latin1');
    expect(stored).not.toContain('Ada Byron');
    expect(stored).not.toContain('json/plain');
    // 12-byte IV, the protobuf of the original, 16-byte tag.
    expect(encrypted.data!.length).toBeGreaterThan(12 + 16 + original.data!.length);

    const [decoded] = await codec.decode([encrypted]);
    expect(text(decoded.metadata!.encoding)).toBe('json/plain');
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual({ message: SECRET });
  });

  it('uses a fresh IV for every payload, so equal values do not look equal', async () => {
    const codec = codecWith(`A:${keyA}`);
    const [first, second] = await codec.encode([payloadOf(SECRET), payloadOf(SECRET)]);
    expect(Buffer.from(first.data!).subarray(0, 12)).not.toEqual(Buffer.from(second.data!).subarray(0, 12));
    expect(Buffer.from(first.data!)).not.toEqual(Buffer.from(second.data!));
  });

  it('rotates: what key A encrypted decodes with "B,A", and B encrypts from then on', async () => {
    const [fromA] = await codecWith(`A:${keyA}`).encode([payloadOf(SECRET)]);
    const rotated = codecWith(`B:${keyB},A:${keyA}`);
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([fromA]))[0])).toBe(SECRET);
    const [fromB] = await rotated.encode([payloadOf(SECRET)]);
    expect(text(fromB.metadata!['encryption-key-id'])).toBe('B');
    // A process that dropped B (but kept A) cannot read what B encrypted.
    expect((await keyError(codecWith(`A:${keyA}`), [fromB])).message).toMatch(/key "B"/);
  });

  it('passes payloads that are not encrypted through unchanged (runs from before encryption)', async () => {
    const plain = [payloadOf({ message: SECRET }), payloadOf(null), payloadOf(new Uint8Array([1, 2, 3]))];
    const decoded = await codecWith(`A:${keyA}`).decode(plain);
    expect(decoded).toHaveLength(3);
    decoded.forEach((payload, index) => expect(payload).toBe(plain[index]));
  });

  it('names the missing key id and the ids it holds, and tells the callback', async () => {
    const [fromA] = await codecWith(`A:${keyA}`).encode([payloadOf(SECRET)]);
    const seen: PayloadKeyError[] = [];
    const codec = codecWith(`B:${keyB},C:${newKey()}`, (error) => seen.push(error));
    const error = await keyError(codec, [payloadOf('plain'), fromA]);
    expect(error.message).toBe(
      'a payload is encrypted with key "A", which PAYLOAD_KEYS here lacks (it holds "B", "C")',
    );
    expect(seen).toEqual([error]);
  });

  it('refuses an altered payload, a wrong key under the right id, and a cut-off payload', async () => {
    const [encrypted] = await codecWith(`A:${keyA}`).encode([payloadOf(SECRET)]);
    const tampered = Buffer.from(encrypted.data!);
    tampered[20] ^= 0x01;
    const wrongKey = codecWith(`A:${keyB}`);
    const codec = codecWith(`A:${keyA}`);
    for (const [reader, data] of [
      [codec, tampered],
      [codec, Buffer.from(encrypted.data!).subarray(0, 27)],
      [codec, Buffer.concat([Buffer.from(encrypted.data!), Buffer.from([0])])],
      [wrongKey, encrypted.data!],
    ] as const) {
      const error = await keyError(reader, [{ metadata: encrypted.metadata, data }]);
      expect(error.message).toMatch(/^a payload encrypted with key "A" failed authentication/);
    }
  });

  it('does not repeat a key id from history that is not a plain id', async () => {
    const [encrypted] = await codecWith(`A:${keyA}`).encode([payloadOf(SECRET)]);
    const forged = {
      ...encrypted,
      metadata: { ...encrypted.metadata, 'encryption-key-id': Buffer.from('A\nforged line') },
    };
    const missing = { ...encrypted, metadata: { encoding: encrypted.metadata!.encoding } };
    const codec = codecWith(`A:${keyA}`);
    expect((await keyError(codec, [forged])).message).toBe('an encrypted payload names no valid key id');
    expect((await keyError(codec, [missing])).message).toBe('an encrypted payload names no valid key id');
  });
});

describe('PAYLOAD_KEYS', () => {
  it('lists keys in order: the first encrypts, all decrypt', () => {
    const keyring = parsePayloadKeys(` B:${keyB} , A.old_1-x:${keyA}`);
    expect(keyring.encrypting?.id).toBe('B');
    expect([...keyring.keys.keys()]).toEqual(['B', 'A.old_1-x']);
    expect(keyring.keys.get('A.old_1-x')!.export().toString('base64')).toBe(keyA);
  });

  it('is URL-safe base64 too', () => {
    const bytes = randomBytes(32);
    const urlSafe = bytes.toString('base64url');
    expect(parsePayloadKeys(`K:${urlSafe}`).keys.get('K')!.export()).toEqual(bytes);
  });

  const short = randomBytes(16).toString('base64');
  const long = randomBytes(33).toString('base64');
  it.each([
    ['an empty entry', `A:${keyA},`, /^PAYLOAD_KEYS: entry 2 of 2 is empty/, [keyA]],
    ['a key without id', keyA, /^PAYLOAD_KEYS: entry 1 of 1 is not id:base64key \(it has no ':'\)$/, [keyA]],
    [
      'an id with a space',
      `my key:${keyA}`,
      /^PAYLOAD_KEYS: entry 1 of 1: a key id is 1 to 64 characters/,
      ['my key', keyA],
    ],
    ['an empty id', `:${keyA}`, /^PAYLOAD_KEYS: entry 1 of 1: a key id is/, [keyA]],
    ['an id of 65 characters', `${'x'.repeat(65)}:${keyA}`, /: a key id is 1 to 64/, ['x'.repeat(65), keyA]],
    ['a duplicate id', `A:${keyA},A:${keyB}`, /^PAYLOAD_KEYS: entry 2 of 2: key id "A" is listed twice$/, [keyA, keyB]],
    [
      'a key that is not base64',
      `A:${keyA.slice(0, 20)}!${keyA.slice(21)}`,
      /^PAYLOAD_KEYS: key "A" is not base64/,
      [keyA.slice(0, 20)],
    ],
    [
      'a 16-byte key',
      `A:${short}`,
      /^PAYLOAD_KEYS: key "A" is 16 bytes after base64 decoding; AES-256 needs exactly 32/,
      [short],
    ],
    ['a 33-byte key', `B:${keyB},A:${long}`, /^PAYLOAD_KEYS: key "A" is 33 bytes/, [long, keyB]],
    ['an empty key', 'A:', /^PAYLOAD_KEYS: key "A" is not base64/, []],
  ])(
    'refuses %s with a ConfigError that names the variable and repeats no key material',
    (_, raw, message, secrets) => {
      const error = thrown(ConfigError, () => parsePayloadKeys(raw));
      expect(error.message).toMatch(message);
      for (const secret of secrets) expect(error.message).not.toContain(secret);
    },
  );

  it('reaches workers and clients raw from env', () => {
    expect(loadWorkerConfig({ PAYLOAD_KEYS: `A:${keyA}` }).PAYLOAD_KEYS).toBe(`A:${keyA}`);
    expect(loadTemporalConfig({ PAYLOAD_KEYS: `A:${keyA}` }).PAYLOAD_KEYS).toBe(`A:${keyA}`);
    expect(loadTemporalConfig({ PAYLOAD_KEYS: '' })).not.toHaveProperty('PAYLOAD_KEYS');
    expect(() => payloadCodecs('A:short')).toThrow(ConfigError);
  });

  it('unset, changes no payload, and says so when it meets an encrypted one', async () => {
    const seen: PayloadKeyError[] = [];
    const [codec] = payloadCodecs(undefined, { onKeyError: (error) => seen.push(error) });
    const plain = [payloadOf({ message: SECRET })];
    expect(await codec.encode(plain)).toBe(plain);
    expect(await codec.decode(plain)).toEqual(plain);
    const [fromA] = await codecWith(`A:${keyA}`).encode(plain);
    const error = await keyError(codec as EncryptionCodec, [fromA]);
    expect(error.message).toBe('a payload is encrypted with key "A", but PAYLOAD_KEYS is not set here');
    expect(seen).toEqual([error]);
  });
});

describe('the codec server configuration', () => {
  const token = randomBytes(32).toString('hex');
  it('needs keys and a token, and checks the token without repeating it', () => {
    expect(loadCodecServerConfig({ PAYLOAD_KEYS: `A:${keyA}`, CODEC_SERVER_TOKEN: token })).toEqual({
      PAYLOAD_KEYS: `A:${keyA}`,
      CODEC_SERVER_TOKEN: token,
    });
    expect(thrown(ConfigError, () => loadCodecServerConfig({ PAYLOAD_KEYS: `A:${keyA}` })).message).toMatch(
      /CODEC_SERVER_TOKEN: is not set/,
    );
    expect(thrown(ConfigError, () => loadCodecServerConfig({ CODEC_SERVER_TOKEN: token })).message).toMatch(
      /PAYLOAD_KEYS: is not set/,
    );
    for (const bad of ['short-token', `${token.slice(0, 40)}/${token.slice(41)}`, `${token} `]) {
      const error = thrown(ConfigError, () =>
        loadCodecServerConfig({ PAYLOAD_KEYS: `A:${keyA}`, CODEC_SERVER_TOKEN: bad }),
      );
      expect(error.message).toMatch(/CODEC_SERVER_TOKEN: must be 32 to 256 characters/);
      expect(error.message).not.toContain(bad.trim());
    }
    expect(
      thrown(ConfigError, () =>
        loadCodecServerConfig({ PAYLOAD_KEYS: `A:${keyA}`, CODEC_SERVER_TOKEN: token, CODEC_SERVER_PORT: '70000' }),
      ).message,
    ).toMatch(/CODEC_SERVER_PORT: /);
  });
});

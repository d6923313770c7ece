/**
 * The codec server over real HTTP on loopback: it decodes for whoever holds the token, and only for
 * them; browsers of one origin only; bounded bodies; checked request shapes; no /encode.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, parsePayloadKeys, parseUiOrigin, startCodecServer, type CodecServer } from '../../codec';
import { ConfigError } from '../../src/errors';
import { thrown } from '../support/thrown';

const token = randomBytes(32).toString('hex');
const UI = 'http://localhost:8233';
const codec = new EncryptionCodec(parsePayloadKeys(`A:${randomBytes(32).toString('base64')}`));
const MAX_BODY = 64 * 1024;
let server: CodecServer;

beforeAll(async () => {
  server = await startCodecServer({ codec, token, uiOrigin: UI, port: 0, maxBodyBytes: MAX_BODY });
});
afterAll(async () => {
  await server?.close();
});

/** proto3 JSON of Payloads, as the Web UI and the temporal CLI send it. */
async function payloadsJson(...values: unknown[]): Promise<{ payloads: Record<string, unknown>[] }> {
  const encoded = await codec.encode(values.map((value) => defaultPayloadConverter.toPayload(value)));
  return temporal.api.common.v1.Payloads.toObject(temporal.api.common.v1.Payloads.create({ payloads: encoded }), {
    bytes: String,
  }) as { payloads: Record<string, unknown>[] };
}

const jsonHeaders = { 'content-type': 'application/json' };
const bearer = { authorization: `Bearer ${token}` };
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { ...jsonHeaders, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

/** The values in a `/decode` answer. */
function valuesOf(body: unknown): unknown[] {
  return temporal.api.common.v1.Payloads.fromObject(body as object).payloads.map((payload) =>
    defaultPayloadConverter.fromPayload(payload),
  );
}

describe('the codec server', () => {
  it('listens on loopback by default and prints no token in its url', () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
  });

  it('decodes with the token as a bearer header (temporal CLI) or as the first path segment (Web UI)', async () => {
    const body = await payloadsJson('Where is order 1042?', { orderId: '1042' });
    for (const response of [
      await post('/decode', body, bearer),
      await post(`/${token}/decode?preserveStorageRefs=true`, body, { origin: UI, 'x-namespace': 'default' }),
    ]) {
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(valuesOf(await response.json())).toEqual(['Where is order 1042?', { orderId: '1042' }]);
    }
  });

  it('takes the path token over an Authorization header, which then belongs to the UI login', async () => {
    const response = await post(`/${token}/decode`, await payloadsJson('x'), {
      authorization: 'Bearer some-oidc-token',
    });
    expect(response.status).toBe(200);
  });

  it('passes payloads that are not encrypted through', async () => {
    const plain = temporal.api.common.v1.Payloads.toObject(
      temporal.api.common.v1.Payloads.create({ payloads: [defaultPayloadConverter.toPayload('plain')] }),
      { bytes: String },
    );
    const response = await post('/decode', plain, bearer);
    expect(valuesOf(await response.json())).toEqual(['plain']);
  });

  it('answers 401 without the token or with a wrong one, and decodes nothing', async () => {
    const body = await payloadsJson('secret');
    const wrong = randomBytes(32).toString('hex');
    for (const response of [
      await post('/decode', body),
      await post('/decode', body, { authorization: `Bearer ${wrong}` }),
      await post('/decode', body, { authorization: token }),
      await post(`/${wrong}/decode`, body, bearer),
      await post(`/${token.slice(0, -1)}/decode`, body),
      await post('/encode', body),
    ]) {
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(await response.text()).not.toContain('secret');
    }
  });

  it('serves only POST /decode: no /encode', async () => {
    const body = await payloadsJson('x');
    expect((await post('/encode', body, bearer)).status).toBe(404);
    expect((await post(`/${token}/encode`, body)).status).toBe(404);
    expect((await post(`/${token}/decode/more`, body, bearer)).status).toBe(404);
    const get = await fetch(`${server.url}/decode`, { headers: bearer });
    expect(get.status).toBe(405);
  });

  it('answers the Web UI preflight with what it needs, and with credentials', async () => {
    const response = await fetch(`${server.url}/${token}/decode`, {
      method: 'OPTIONS',
      headers: {
        origin: UI,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-namespace',
      },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI);
    expect(response.headers.get('access-control-allow-credentials')).toBe('true');
    expect(response.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS');
    const allowed = response.headers.get('access-control-allow-headers')!.split(/,\s*/);
    expect(allowed).toEqual(expect.arrayContaining(['content-type', 'x-namespace', 'authorization']));
    expect(response.headers.get('vary')).toBe('Origin');
  });

  it('gives any other origin no CORS allowance, and does not decode for it even with the token', async () => {
    const evil = 'http://localhost:8234';
    const preflight = await fetch(`${server.url}/${token}/decode`, {
      method: 'OPTIONS',
      headers: { origin: evil, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const response = await post(`/${token}/decode`, await payloadsJson('secret'), { origin: evil });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(await response.text()).not.toContain('secret');
  });

  it('refuses bodies over the bound with 413, whether declared or streamed', async () => {
    const big = JSON.stringify({ payloads: [{ data: 'A'.repeat(MAX_BODY) }] });
    expect((await post('/decode', big, bearer)).status).toBe(413);
    // No content-length: the server counts what arrives and stops reading past the bound.
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${server.url}/decode`, { method: 'POST', headers: { ...jsonHeaders, ...bearer } });
      request.on('response', (response) => resolve(response.statusCode!));
      request.on('error', reject);
      request.write(big.slice(0, MAX_BODY / 2));
      request.write(big.slice(MAX_BODY / 2));
      request.end();
    });
    expect(status).toBe(413);
  });

  it.each([
    ['not JSON', '{"payloads": [', jsonHeaders, 400, /not JSON/],
    ['no payloads', { other: 1 }, jsonHeaders, 400, /payloads/],
    [
      'data that is not base64',
      { payloads: [{ data: 'not base64!' }] },
      jsonHeaders,
      400,
      /payloads\.0\.data: expected base64/,
    ],
    ['metadata that is not a map', { payloads: [{ metadata: ['x'] }] }, jsonHeaders, 400, /payloads\.0\.metadata/],
    ['another content type', '{"payloads": []}', { 'content-type': 'text/plain' }, 415, /application\/json/],
  ])('answers %s with a clear error', async (_, body, headers, status, message) => {
    const response = await post('/decode', body, { ...headers, ...bearer });
    expect(response.status).toBe(status);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it('answers 422 naming the key for a payload it holds no key for', async () => {
    const other = new EncryptionCodec(parsePayloadKeys(`Z:${randomBytes(32).toString('base64')}`));
    const body = temporal.api.common.v1.Payloads.toObject(
      temporal.api.common.v1.Payloads.create({ payloads: await other.encode([defaultPayloadConverter.toPayload(1)]) }),
      { bytes: String },
    );
    const response = await post('/decode', body, bearer);
    expect(response.status).toBe(422);
    expect(((await response.json()) as { error: string }).error).toMatch(
      /key "Z", which PAYLOAD_KEYS here lacks \(it holds "A"\)/,
    );
  });
});

describe('parseUiOrigin', () => {
  it('takes an origin and nothing more', () => {
    expect(parseUiOrigin('http://localhost:8233', '--ui-origin')).toBe('http://localhost:8233');
    expect(parseUiOrigin('https://temporal.example.com', '--ui-origin')).toBe('https://temporal.example.com');
    for (const bad of ['http://localhost:8233/', 'localhost:8233', 'http://localhost:8233/ui', 'ftp://x', '*']) {
      expect(thrown(ConfigError, () => parseUiOrigin(bad, 'CODEC_SERVER_UI_ORIGIN')).message).toMatch(
        /^CODEC_SERVER_UI_ORIGIN: expected an http\(s\) origin/,
      );
    }
  });
});

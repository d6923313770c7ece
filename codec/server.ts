/**
 * A codec server (Temporal's remote codec protocol, decode only) so that people can read encrypted
 * payloads in the Web UI and with `temporal workflow show --codec-endpoint ...`: POST `.../decode` with
 * the proto3 JSON of `temporal.api.common.v1.Payloads` is answered in the same shape, decrypted.
 *
 * Everything that reaches it is hostile until checked: a bearer token (header, or the first path
 * segment for the Web UI, which cannot add headers) compared in constant time, CORS for exactly one
 * Web UI origin, a bounded body, and a strictly checked request shape. There is no `/encode`: nobody
 * needs this server to produce payloads workers would trust.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { CODEC_SERVER_DEFAULTS } from '../src/defaults';
import { ConfigError, PayloadKeyError } from '../src/errors';
import { describeIssues } from '../src/validation';

/** What the Web UI sends (data-encoder.ts in temporalio/ui): its preflight asks for these headers. */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization, authorization-extras';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** The bearer token; checked by `loadCodecServerConfig` (URL-safe, at least 32 characters). */
  token: string;
  /** The one origin whose pages may call the server (the Web UI's); see `parseUiOrigin`. */
  uiOrigin: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  maxBodyBytes?: number;
}

export interface CodecServer {
  /** `http://host:port`, without the token: the `temporal` CLI's `--codec-endpoint`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Checks a Web UI origin (`http://localhost:8233`: scheme, host and port, nothing else) and returns
 * it; `source` names the option or variable it came from, for the `ConfigError`.
 */
export function parseUiOrigin(value: string, source: string): string {
  let origin: string | undefined;
  try {
    origin = new URL(value).origin;
  } catch {
    origin = undefined;
  }
  if (origin !== value || !/^https?:/.test(value)) {
    throw new ConfigError(
      `${source}: expected an http(s) origin such as http://localhost:8233 (no path, no trailing slash)`,
    );
  }
  return value;
}

const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'expected base64');
/** proto3 JSON of `Payloads`; other fields of a payload (externalPayloads) are left to the proto's own check. */
const decodeRequestSchema = z.object({
  payloads: z.array(z.looseObject({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
});

/** An answer: its status, its JSON body (none for a preflight) and any extra headers. */
interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const refuse = (status: number, message: string, headers?: Record<string, string>): Reply => ({
  status,
  body: { error: message },
  headers,
});

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function contentTypeIsJson(header: string | undefined): boolean {
  return (header ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}

/** The request body, or undefined once it passes `limit` bytes (nothing past that is read). */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(request.headers['content-length']) > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      request.off('data', onData);
      request.pause();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

/** Starts the server; resolves once it listens. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const { codec, uiOrigin } = options;
  const host = options.host ?? CODEC_SERVER_DEFAULTS.host;
  const maxBodyBytes = options.maxBodyBytes ?? CODEC_SERVER_DEFAULTS.maxBodyBytes;
  const tokenDigest = digest(options.token);
  // Digests have one length, so the comparison takes the same time whatever was presented.
  const tokenMatches = (presented: string | undefined) =>
    presented !== undefined && timingSafeEqual(digest(presented), tokenDigest);

  async function decode(request: IncomingMessage): Promise<Reply> {
    if (!contentTypeIsJson(request.headers['content-type']))
      return refuse(415, 'expected content-type: application/json');
    const body = await readBody(request, maxBodyBytes);
    // The client may still be sending: close the connection rather than read the rest.
    if (!body) return refuse(413, `the body is larger than ${maxBodyBytes} bytes`, { connection: 'close' });
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(400, 'the body is not JSON');
    }
    const checked = decodeRequestSchema.safeParse(json);
    if (!checked.success) return refuse(400, `expected {"payloads": [...]}: ${describeIssues(checked.error)}`);
    let payloads: temporal.api.common.v1.Payloads;
    try {
      payloads = temporal.api.common.v1.Payloads.fromObject(checked.data);
    } catch (error) {
      return refuse(400, `not a Payloads message: ${(error as Error).message}`);
    }
    let decoded: Payload[];
    try {
      decoded = await codec.decode(payloads.payloads);
    } catch (error) {
      if (error instanceof PayloadKeyError) return refuse(422, error.message);
      throw error;
    }
    const message = temporal.api.common.v1.Payloads.create({ payloads: decoded });
    return { status: 200, body: temporal.api.common.v1.Payloads.toObject(message, { bytes: String }) };
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<Reply> {
    const origin = request.headers.origin;
    // A page of any other origin gets no CORS allowance, and is not served either.
    if (origin !== undefined && origin !== uiOrigin) return refuse(403, 'origin not allowed');
    if (origin !== undefined) {
      response.setHeader('access-control-allow-origin', uiOrigin);
      response.setHeader('access-control-allow-credentials', 'true');
    }
    if (request.method === 'OPTIONS') {
      // A preflight carries no credentials: it is answered without the token.
      return {
        status: 204,
        headers: {
          'access-control-allow-methods': 'POST, OPTIONS',
          'access-control-allow-headers': ALLOWED_HEADERS,
          'access-control-max-age': '600',
        },
      };
    }
    const segments = new URL(request.url ?? '/', 'http://codec-server').pathname.split('/').slice(1);
    // `/<token>/decode` for the Web UI; `/decode` with `Authorization: Bearer <token>` for everyone else.
    // With the token in the path, the Authorization header is not ours (the UI may send its own login's).
    const presented = segments.length === 2 ? segments[0] : bearerToken(request.headers.authorization);
    if (!tokenMatches(presented)) return refuse(401, 'a valid token is required', { 'www-authenticate': 'Bearer' });
    if (segments.length > 2 || segments.at(-1) !== 'decode') return refuse(404, 'only /decode is served');
    if (request.method !== 'POST') return refuse(405, 'use POST', { allow: 'POST, OPTIONS' });
    return decode(request);
  }

  const server = createServer((request, response) => {
    response.setHeader('vary', 'Origin');
    // Decoded payloads are the plaintext this whole module protects: no cache keeps a copy.
    response.setHeader('cache-control', 'no-store');
    void handle(request, response)
      .catch((error: Error): Reply => {
        console.error(`codec-server: ${error.message}`);
        return refuse(500, 'internal error');
      })
      .then(({ status, body, headers }) => {
        response.writeHead(status, { ...(body !== undefined && { 'content-type': 'application/json' }), ...headers });
        response.end(body === undefined ? undefined : JSON.stringify(body));
      });
  });
  server.requestTimeout = CODEC_SERVER_DEFAULTS.requestTimeoutMs;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? CODEC_SERVER_DEFAULTS.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

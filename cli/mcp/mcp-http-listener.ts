/**
 * `durable-agents mcp --http`: the agent tools over Streamable HTTP, stateless (a server and a
 * transport per request, all state in Temporal), at `/mcp`. On loopback the Host header must name
 * loopback (no DNS rebinding from a web page); bound anywhere else, a bearer token is required, and
 * `requireToken` asks for it on loopback too. Bodies are bounded before they are parsed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { isIPv6 } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { Bounds } from '../../src/defaults';

/** The path the server answers on. */
export const MCP_PATH = '/mcp';

/** The largest request body read (a message at its bound, JSON-escaped, with the envelope around it). */
const MAX_BODY_BYTES = 2 * Bounds.messageBytes + 65_536;

export interface McpHttpOptions {
  host: string;
  port: number;
  /** The bearer token clients must send; required unless `host` is loopback. */
  token?: string;
  /** A new server per request (each is connected to the request's own transport); `closed` aborts when it ends. */
  serverFor: (closed: AbortSignal) => McpServer;
  /** Where failures of single requests are told (stderr). */
  onError: (message: string) => void;
}

/** Whether `host` (an IP address) is loopback: 127.0.0.0/8 or ::1. */
export function isLoopback(host: string): boolean {
  return /^127\.\d+\.\d+\.\d+$/.test(host) || host === '::1' || /^::ffff:127\./i.test(host);
}

/** The token a listener on `host` requires, or why it cannot listen there. */
export function listenerToken(host: string, token: string | undefined, requireToken: boolean): string | undefined {
  if (!token && (requireToken || !isLoopback(host))) {
    throw new Error(
      `${requireToken ? '--require-token' : `listening on ${host}, beyond loopback,`} needs a bearer token: ` +
        'set MCP_SERVER_TOKEN (e.g. export MCP_SERVER_TOKEN=$(openssl rand -hex 32))',
    );
  }
  return token;
}

/** Compares tokens in constant time (their digests, so lengths do not tell either). */
function tokenMatches(header: string | undefined, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(header ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

function refuse(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/** The request's body as JSON, or undefined after refusing it (too large, not JSON). */
async function readBody(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      refuse(res, 413, `request body over ${MAX_BODY_BYTES} bytes`);
      return undefined;
    }
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    refuse(res, 400, 'request body is not JSON');
    return undefined;
  }
}

/** The Host headers a loopback listener accepts: its own address and localhost, with its port. */
function loopbackHosts(host: string, port: number): string[] {
  return [isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`, `localhost:${port}`];
}

async function handle(req: IncomingMessage, res: ServerResponse, options: McpHttpOptions, port: number) {
  if (new URL(req.url ?? '/', 'http://server').pathname !== MCP_PATH)
    return refuse(res, 404, `not found: use ${MCP_PATH}`);
  if (options.token && !tokenMatches(req.headers.authorization, options.token)) {
    return refuse(res, 401, 'a bearer token is required (Authorization: Bearer <MCP_SERVER_TOKEN>)', {
      'www-authenticate': 'Bearer',
    });
  }
  // Stateless: no session to resume, so no stream of its own (GET) and nothing to delete.
  if (req.method !== 'POST') return refuse(res, 405, 'method not allowed: POST only', { allow: 'POST' });
  const body = await readBody(req, res);
  if (body === undefined) return;
  const closed = new AbortController();
  const server = options.serverFor(closed.signal);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    ...(isLoopback(options.host) && {
      enableDnsRebindingProtection: true,
      allowedHosts: loopbackHosts(options.host, port),
    }),
  });
  res.on('close', () => {
    closed.abort();
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, body);
}

/** Listens until `close`; `url` is where clients connect (`port` 0 picks a free port). */
export async function listenMcpHttp(options: McpHttpOptions): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer((req, res) => {
    const port = (http.address() as { port: number }).port;
    handle(req, res, options, port).catch((error: Error) => {
      options.onError(`mcp: a request failed: ${error.message}`);
      if (!res.headersSent) refuse(res, 500, 'internal error');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, options.host, resolve);
  });
  const { port } = http.address() as { port: number };
  const shown = isIPv6(options.host) ? `[${options.host}]` : options.host;
  return {
    url: `http://${shown}:${port}${MCP_PATH}`,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

/**
 * The real MCP servers the tests run (@modelcontextprotocol/server-filesystem and server-everything,
 * devDependencies), started behind the logging proxy (test/fixtures/mcp-logging-proxy.mjs), whose
 * log says what each server process received.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');
const PACKAGES = join(REPO, 'node_modules', '@modelcontextprotocol');

export const FILESYSTEM_SERVER = join(PACKAGES, 'server-filesystem', 'dist', 'index.js');
export const EVERYTHING_SERVER = join(PACKAGES, 'server-everything', 'dist', 'index.js');
export const LOGGING_PROXY = join(REPO, 'test', 'fixtures', 'mcp-logging-proxy.mjs');

/** `{ command, args }` of a stdio server (a Node script and its arguments) behind the logging proxy writing `log`. */
export function proxied(log: string, script: string, ...args: string[]): { command: string; args: string[] } {
  return { command: process.execPath, args: [LOGGING_PROXY, log, process.execPath, script, ...args] };
}

/** One line of the proxy's log. */
export interface ProxyLogEntry {
  event: 'start' | 'exit' | 'request' | 'unparsed';
  proxyPid: number;
  workerPid: number;
  serverPid?: number;
  method?: string;
  /** A request's JSON-RPC id; `cancelled`: the id a `notifications/cancelled` names. */
  id?: number | string;
  cancelled?: number | string;
  tool?: string;
  meta?: Record<string, unknown>;
  at: number;
}

export function readProxyLog(log: string): ProxyLogEntry[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ProxyLogEntry);
}

/** The requests of `method` in the proxy's log. */
export const requestsOf = (log: string, method: string) =>
  readProxyLog(log).filter((entry) => entry.event === 'request' && entry.method === method);

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** server-everything over Streamable HTTP (and SSE at /sse when `transport` is `sse`) on `port`. */
export async function startEverythingHttp(
  port: number,
  transport: 'streamableHttp' | 'sse' = 'streamableHttp',
): Promise<{ url: string; process: ChildProcess; stop(): Promise<void> }> {
  const child = spawn(process.execPath, [EVERYTHING_SERVER, transport], {
    env: { PATH: process.env.PATH, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk) => {
      output += chunk;
      if (/listening on port|running on port/.test(output)) resolve();
    });
    child.once('exit', () => reject(new Error(`server-everything exited: ${output}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/${transport === 'sse' ? 'sse' : 'mcp'}`,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * The worker's health endpoints (`HEALTH_PORT`), for probes and load balancers: `/healthz` answers
 * while the process is up, `/readyz` only while every task queue is polled (503 before, and while
 * the worker drains after SIGTERM). They listen on `HEALTH_HOST`: loopback unless the worker is told
 * otherwise (deploy/ sets 0.0.0.0, for probes from outside the container).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentWorker } from './agent-worker';

export interface HealthServer {
  /** The address it listens on, as the socket reports it (`127.0.0.1`, `::`). */
  host: string;
  port: number;
  close(): Promise<void>;
}

/** Serves the endpoints on `host`:`port` (port 0: any free one) for `worker`. */
export async function serveHealth(
  { host, port }: { host: string; port: number },
  worker: Pick<AgentWorker, 'getState'>,
): Promise<HealthServer> {
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://worker').pathname;
    const state = worker.getState();
    const [status, body] =
      path === '/healthz'
        ? [200, `ok (${state.toLowerCase()})\n`]
        : path === '/readyz'
          ? state === 'RUNNING'
            ? [200, 'ready: polling\n']
            : [503, `not ready: ${state.toLowerCase()}\n`]
          : [404, 'not found: /healthz or /readyz\n'];
    response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    host: address.address,
    port: address.port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Where the worker's health endpoints listen (runtime/health.ts, issue #21): on loopback unless
 * `HEALTH_HOST` says otherwise, as the socket itself reports. A real worker answering on 127.0.0.1 and
 * not on the machine's other addresses: test/integration/cli-dev.test.ts.
 */
import { serveHealth } from '../../runtime/health';
import { loadWorkerConfig } from '../../src/config';

const running = { getState: () => 'RUNNING' as const };

async function listening(env: Record<string, string>): Promise<{ host: string; status: number }> {
  const config = loadWorkerConfig({ HEALTH_PORT: '0', ...env });
  const server = await serveHealth({ host: config.HEALTH_HOST, port: config.HEALTH_PORT! }, running);
  try {
    const status = (await fetch(`http://127.0.0.1:${server.port}/readyz`)).status;
    return { host: server.host, status };
  } finally {
    await server.close();
  }
}

describe('the health endpoints', () => {
  it('listen on 127.0.0.1 by default', async () => {
    expect(await listening({})).toEqual({ host: '127.0.0.1', status: 200 });
  });

  it('listen where HEALTH_HOST says: every interface for probes from outside', async () => {
    expect(await listening({ HEALTH_HOST: '0.0.0.0' })).toEqual({ host: '0.0.0.0', status: 200 });
  });

  it('take an IP address only, and say so', () => {
    expect(() => loadWorkerConfig({ HEALTH_HOST: 'localhost' })).toThrow(
      /HEALTH_HOST: must be an IP address to listen on, such as 127\.0\.0\.1 \(loopback\), 0\.0\.0\.0/,
    );
    expect(() => loadWorkerConfig({ METRICS_HOST: 'example.com' })).toThrow(/METRICS_HOST: must be an IP address/);
  });
});

import { rmSync } from 'node:fs';
import { stopDevServer, type DevServer } from '../../testing/dev-server';

export default async function globalTeardown(): Promise<void> {
  const server = (globalThis as { devServer?: DevServer }).devServer;
  if (server) await stopDevServer(server.process);
  if (process.env.TEST_TMP_DIR) rmSync(process.env.TEST_TMP_DIR, { recursive: true, force: true });
}

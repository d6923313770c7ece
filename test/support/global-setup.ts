/**
 * Once per jest run: start the dev server and build the workflow bundle that every test worker shares.
 * Both reach the test files through env variables, which jest's worker processes inherit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { startDevServer } from './dev-server';

export default async function globalSetup(): Promise<void> {
  const [server, bundle] = await Promise.all([
    startDevServer(),
    bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: new DefaultLogger('WARN') }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'durable-agents-test-'));
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_TMP_DIR = dir;
  (globalThis as { devServer?: unknown }).devServer = server;
}

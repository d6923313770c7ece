/**
 * Once per jest run: start the dev server and build the workflow bundle that every test worker shares.
 * Both reach the test files through env variables, which jest's worker processes inherit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundleOptions } from '../../runtime/workflow-modules';
import { startDevServer } from '../../testing/dev-server';

export default async function globalSetup(): Promise<void> {
  const [server, bundle] = await Promise.all([
    // One partition per task queue: a task queue's rate limit (MODEL_CALLS_PER_SECOND) is then enforced
    // in one place, without the burst of one call per partition that a partitioned queue lets through.
    startDevServer([
      '--dynamic-config-value',
      'matching.numTaskqueueReadPartitions=1',
      '--dynamic-config-value',
      'matching.numTaskqueueWritePartitions=1',
    ]),
    bundleWorkflowCode({
      ...workflowBundleOptions(require.resolve('../../workflows')),
      logger: new DefaultLogger('WARN'),
    }),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'durable-agents-test-'));
  const bundlePath = join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_TMP_DIR = dir;
  (globalThis as { devServer?: unknown }).devServer = server;
}

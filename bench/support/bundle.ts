/** Workflow bundles built once per bench invocation, as `WORKFLOW_BUNDLE` files for worker processes. */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundleOptions } from '../../runtime/workflow-modules';

/** A bundle in a temporary file. */
export interface BundleFile {
  path: string;
  bytes: number;
  /** Deletes the file. */
  remove(): void;
}

/**
 * Bundles the workflows of `workflowsPath` (a module path) into a temporary file; an agent bundle
 * (`agent`) with runtime/workflow-modules.ts's modules, as every agent bundle is.
 */
export async function bundleToFile(workflowsPath: string, name: string, agent = false): Promise<BundleFile> {
  const bundle = await bundleWorkflowCode({
    ...(agent ? workflowBundleOptions(workflowsPath) : { workflowsPath }),
    logger: new DefaultLogger('WARN'),
  });
  const path = join(tmpdir(), `bench-${name}-${randomUUID().slice(0, 8)}.js`);
  writeFileSync(path, bundle.code);
  return { path, bytes: Buffer.byteLength(bundle.code), remove: () => rmSync(path, { force: true }) };
}

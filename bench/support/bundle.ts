/** Workflow bundles built once per bench invocation, as `WORKFLOW_BUNDLE` files for worker processes. */
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

/** A bundle in a temporary file. */
export interface BundleFile {
  path: string;
  bytes: number;
  /** Deletes the file. */
  remove(): void;
}

/**
 * Bundles the workflows of `workflowsPath` (a module path), with `workflowInterceptorModules`, into a
 * temporary file. The agent's bundle takes runtime/workflow-modules.ts's, as every agent bundle does.
 */
export async function bundleToFile(
  workflowsPath: string,
  name: string,
  workflowInterceptorModules: readonly string[] = [],
): Promise<BundleFile> {
  const bundle = await bundleWorkflowCode({
    workflowsPath,
    workflowInterceptorModules: [...workflowInterceptorModules],
    logger: new DefaultLogger('WARN'),
  });
  const path = join(tmpdir(), `bench-${name}-${randomUUID().slice(0, 8)}.js`);
  writeFileSync(path, bundle.code);
  return { path, bytes: Buffer.byteLength(bundle.code), remove: () => rmSync(path, { force: true }) };
}

#!/usr/bin/env node
// `npm run build`'s last step: bundles the compiled workflow code into dist/workflow-bundle.js, so a
// worker started from dist/ (the package, the container image) runs it without bundling at every
// start (webpack: seconds and hundreds of MB). Bundle and worker must come from the same
// @temporalio/worker version: both come from this package's dependencies.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { bundleWorkflowCode, DefaultLogger } = require('@temporalio/worker');

const dist = join(__dirname, '..', 'dist');
// The compiled list, whose paths point into dist/ (runtime/workflow-modules.ts).
const { workflowBundleOptions } = require(join(dist, 'runtime', 'workflow-modules.js'));
bundleWorkflowCode({
  ...workflowBundleOptions(join(dist, 'workflows', 'index.js')),
  logger: new DefaultLogger('WARN'),
})
  .then(({ code }) => {
    writeFileSync(join(dist, 'workflow-bundle.js'), code);
    // stderr: `npm pack --json` prints its JSON on stdout, after this.
    console.error(`wrote dist/workflow-bundle.js (${(code.length / 1024 / 1024).toFixed(2)} MB)`);
  })
  .catch((error) => {
    console.error(`bundling the workflow code failed: ${error.message}`);
    process.exit(1);
  });

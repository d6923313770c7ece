#!/usr/bin/env node
// The package bin. Installed from the package, it runs the compiled CLI (dist/cli.js, built by
// `npm run build`, which `npm pack` runs as prepack): plain Node, no TypeScript loader at start-up.
// In a checkout of the repo, where the sources sit beside it (cli.ts, which the package does not
// ship), it runs those through tsx instead, even when a dist/ was built: a dist/ left from an
// earlier build would run yesterday's code, and the sources are what you are editing.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
let cli;
// The worker side (worker.ts), which the CLI loads only for the commands that run its code (agents, worker, dev).
let worker;
if (existsSync(join(root, 'cli.ts'))) {
  require('tsx/cjs/api').register();
  cli = require('../cli.ts');
  worker = '../worker.ts';
} else if (existsSync(join(root, 'dist', 'cli.js'))) {
  cli = require('../dist/cli.js');
  worker = '../dist/worker.js';
} else {
  console.error(`durable-agents: ${join(root, 'dist', 'cli.js')} is missing: run npm run build`);
  process.exit(1);
}
void cli.main(process.argv, async () => require(worker)).then((code) => process.exit(code));

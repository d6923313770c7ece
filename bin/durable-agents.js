#!/usr/bin/env node
// The package bin: runs the TypeScript CLI through tsx's loader.
require('tsx/cjs/api').register();
void require('../client/cli.ts')
  .main(process.argv)
  .then((code) => process.exit(code));

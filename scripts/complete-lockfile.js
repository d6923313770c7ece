#!/usr/bin/env node
// Records every optional platform package (other OSes' native builds of swc, esbuild, ...) in
// package-lock.json. A registry mirror that lacks those builds makes npm leave them out, and npm 11's
// `npm ci` then rejects the lockfile as out of sync. Run after `npm install` changes dependencies.
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const lockPath = join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const added = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const nested = `${path ? `${path}/` : ''}node_modules/${name}`;
    const hoisted = `node_modules/${name}`;
    if (lock.packages[nested] || lock.packages[hoisted]) continue;
    lock.packages[hoisted] = { version, optional: true };
    added.push(`${name}@${version}`);
  }
}
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `recorded ${added.length} optional packages: ${added.join(', ')}` : 'lockfile complete');

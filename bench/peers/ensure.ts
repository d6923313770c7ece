import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * Returns the absolute path of `bench/peers/<name>/<entry>` (default `run.mjs`), first installing that peer's own
 * dependencies from its lockfile (`npm ci`, output on stderr) when they are missing or older than the
 * lockfile. Peers are not dependencies of the project: they are installed only when benchmarked.
 *
 * Native modules (better-sqlite3) are built against the headers installed next to the running Node
 * when there are some, so the install needs only the npm registry, not nodejs.org or GitHub.
 *
 * @throws Error when there is no such peer or when `npm ci` fails.
 */
export function ensurePeer(name: string, entry = 'run.mjs'): string {
  const dir = join(__dirname, name);
  const runner = join(dir, entry);
  const lockfile = join(dir, 'package-lock.json');
  if (!existsSync(runner) || !existsSync(lockfile)) throw new Error(`no benchmark peer "${name}" in ${__dirname}`);
  // npm writes this file last, so it is missing after an install that did not finish.
  const installed = join(dir, 'node_modules', '.package-lock.json');
  if (existsSync(installed) && statSync(installed).mtimeMs >= statSync(lockfile).mtimeMs) return runner;

  const env = { ...process.env };
  const prefix = resolve(dirname(process.execPath), '..');
  if (!env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_version.h'))) {
    env.npm_config_nodedir = prefix;
  }
  process.stderr.write(`Installing benchmark peer "${name}" (npm ci in ${dir})\n`);
  const npm = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], {
    cwd: dir,
    env,
    stdio: ['ignore', 2, 2],
    shell: process.platform === 'win32',
  });
  if (npm.error || npm.status !== 0) {
    const why = npm.error ? npm.error.message : `exit ${npm.status ?? npm.signal}`;
    throw new Error(`npm ci failed for benchmark peer "${name}" in ${dir} (${why}); see the npm output above`);
  }
  return runner;
}

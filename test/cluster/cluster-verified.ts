/**
 * Which code the cluster test last passed on: a SHA-256 over every tracked file under deploy/,
 * workflows/ and test/cluster/ (path and content), kept in test/cluster/passed-on.sha256, which
 * `npm run test:cluster` writes when it passes. CI runs the cluster test only when the code differs
 * from it (its Go build alone does not fit in CI's 30 minutes on every change): a change to the
 * deployment, the workflow code or the test itself is proven on the cluster before it lands, by hand
 * or by CI.
 *
 * `tsx test/cluster/cluster-verified.ts check`: exit 0 when the cluster test passed on this code.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const WATCHED = ['deploy', 'workflows', 'test/cluster'];
const RECORD = 'test/cluster/passed-on.sha256';

/** The digest of the watched files of the git work tree at `root`, as they are on disk. */
export function clusterCodeDigest(root: string): string {
  const listed = execFileSync('git', ['ls-files', '-z', '--', ...WATCHED], { cwd: root, encoding: 'utf8' });
  const paths = listed
    .split('\0')
    .filter((path) => path && path !== RECORD && existsSync(join(root, path)))
    .sort();
  const hash = createHash('sha256');
  for (const path of paths)
    hash
      .update(`${path}\0`)
      .update(readFileSync(join(root, path)))
      .update('\0');
  return hash.digest('hex');
}

/** Whether the cluster test last passed on the code at `root` as it is now. */
export function clusterTestPassedOn(root: string): boolean {
  const record = join(root, RECORD);
  return existsSync(record) && readFileSync(record, 'utf8').trim() === clusterCodeDigest(root);
}

/** Records that the cluster test passed on the code at `root` as it is now. */
export function recordClusterPass(root: string): void {
  writeFileSync(join(root, RECORD), `${clusterCodeDigest(root)}\n`);
}

if (require.main === module && process.argv[2] === 'check') {
  const root = resolve(__dirname, '../..');
  const passed = clusterTestPassedOn(root);
  console.log(
    passed
      ? 'cluster test: passed on this code of deploy/, workflows/ and test/cluster/'
      : `cluster test: deploy/, workflows/ or test/cluster/ changed since it last passed (${RECORD})`,
  );
  process.exitCode = passed ? 0 : 1;
}

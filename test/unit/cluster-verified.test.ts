import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterCodeDigest, clusterTestPassedOn, recordClusterPass } from '../cluster/cluster-verified';

describe("the record of the code the cluster test passed on (CI's reason to run it)", () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cluster-verified-'));
    write('workflows/agent-run.ts', 'loop');
    write('deploy/compose.yaml', 'services');
    write('test/cluster/cluster.run.ts', 'faults');
    write('client/agent-client.ts', 'client');
    execFileSync('git', ['init', '-q'], { cwd: root });
    execFileSync('git', ['add', '.'], { cwd: root });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('holds once recorded, until deploy/, workflows/ or test/cluster/ changes; other code does not count', () => {
    expect(clusterTestPassedOn(root)).toBe(false);
    recordClusterPass(root);
    execFileSync('git', ['add', '.'], { cwd: root });
    expect(clusterTestPassedOn(root)).toBe(true);

    write('client/agent-client.ts', 'client, changed');
    expect(clusterTestPassedOn(root)).toBe(true);
    for (const path of ['workflows/agent-run.ts', 'deploy/compose.yaml', 'test/cluster/cluster.run.ts']) {
      const before = clusterCodeDigest(root);
      write(path, 'changed');
      expect(clusterCodeDigest(root)).not.toBe(before);
      expect(clusterTestPassedOn(root)).toBe(false);
      recordClusterPass(root);
    }
  });

  it('counts a file moved within the watched folders', () => {
    const before = clusterCodeDigest(root);
    execFileSync('git', ['mv', 'workflows/agent-run.ts', 'workflows/run.ts'], { cwd: root });
    expect(clusterCodeDigest(root)).not.toBe(before);
  });
});

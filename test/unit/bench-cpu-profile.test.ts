/**
 * The bench's reader of worker CPU profiles (bench/support/cpu-profile.ts): idle time left out, self
 * time given to whose code it is, and a bundled function named by the module webpack took it from.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarize } from '../../bench/support/cpu-profile';

const BUNDLE = 'bench-agent-test.js';

/** A bundle of two modules (the project's turn.ts, then zod), as webpack marks where each begins. */
const bundleText = [
  '/***/ "./workflows/turn.ts"',
  'function step() {}',
  '/***/ "../main/node_modules/zod/v4/core/core.js"',
  'function init() {}',
].join('\n');

const frame = (functionName: string, lineNumber: number) => ({
  functionName,
  url: `file:///tmp/${BUNDLE}`,
  lineNumber,
});

/** One thread: turn.ts's module being evaluated (2 ms inside zod's `init`, 1 ms its own), and 5 ms idle. */
const profile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 4] },
    { id: 2, callFrame: frame('./workflows/turn.ts', 0), children: [3] },
    { id: 3, callFrame: frame('init', 3), children: [] },
    { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 }, children: [] },
  ],
  samples: [3, 3, 4, 2],
  timeDeltas: [1_000, 1_000, 5_000, 1_000],
};

describe('the CPU profile reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cpu-profile-'));
    writeFileSync(join(dir, BUNDLE), bundleText);
    writeFileSync(join(dir, 'CPU.1.2.0.001.cpuprofile'), JSON.stringify(profile));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts busy time, by owner and by module evaluated, with bundled code named by its module', () => {
    const summary = summarize(dir);
    expect(summary.busyMs).toBe(3);
    expect(Object.fromEntries(summary.selfByOwner.ms)).toEqual({ zod: 2, project: 1 });
    expect(summary.selfByFunction.top(1)).toEqual([['init  bundle node_modules/zod/v4/core/core.js', 2]]);
    expect(summary.projectInclusiveMs).toBe(3);
    expect(Object.fromEntries(summary.moduleEvaluation.ms)).toEqual({ './workflows/turn.ts': 3 });
  });

  it('leaves out the first milliseconds of each thread when asked', () => {
    expect(summarize(dir, 2.5).busyMs).toBe(1);
  });
});

/**
 * The workflow sandbox is guarded by lint, not by discipline: the rule fires on a workflow file that
 * imports a Node built-in, and everything the workflow bundle imports is under that rule.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { ESLint } from 'eslint';
import { REPO, runtimeClosure } from '../support/imports';

/** Lints `code` as if it were the file at `filePath`, with the project's own configuration (a real eslint process). */
async function lintAs(filePath: string, code: string): Promise<ESLint.LintResult> {
  const eslint = spawnSync(
    process.execPath,
    [
      join(REPO, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--stdin',
      '--stdin-filename',
      filePath,
      '--format',
      'json',
    ],
    { cwd: REPO, input: code, encoding: 'utf8' },
  );
  if (eslint.status !== 0 && eslint.status !== 1) throw new Error(`eslint failed: ${eslint.stderr}`);
  return (JSON.parse(eslint.stdout) as ESLint.LintResult[])[0];
}

const ruleIds = (result: ESLint.LintResult) => result.messages.map((message) => message.ruleId);

describe('lint', () => {
  // One eslint process per probe, all at once: type-aware linting takes seconds to start.
  const probes = Promise.all([
    lintAs(
      'workflows/agent-run.ts',
      [
        `import { readFileSync } from 'node:fs';`,
        `import * as fs from 'fs';`,
        `import { join } from 'node:path';`,
        `import { sleep } from '@temporalio/workflow';`,
        `import { AgentSpec } from '../src/types';`,
        `export function probe(spec: AgentSpec) { sleep(1); return [spec, readFileSync, fs, join]; }`,
      ].join('\n'),
    ),
    lintAs('src/contract.ts', `import { readFileSync } from 'node:fs';\nexport const probe = readFileSync;\n`),
    lintAs('activities/model.ts', `import { readFileSync } from 'node:fs';\nexport const probe = readFileSync;\n`),
  ]);

  it('forbids Node built-ins in a workflow file, with and without the node: prefix', async () => {
    const [workflow] = await probes;
    const restricted = workflow.messages.filter((message) => message.ruleId === 'no-restricted-imports');
    expect(restricted.map((message) => message.line)).toEqual([1, 2, 3]);
    expect(restricted[0].message).toMatch(/must not use Node built-ins/);
  });

  it('catches a floating promise and a runtime import used only as a type', async () => {
    const [workflow] = await probes;
    expect(ruleIds(workflow)).toContain('@typescript-eslint/no-floating-promises');
    expect(ruleIds(workflow)).toContain('@typescript-eslint/consistent-type-imports');
  });

  it('forbids Node built-ins in the shared modules of src/ too, and allows them in activities', async () => {
    const [, shared, activity] = await probes;
    expect(ruleIds(shared)).toEqual(['no-restricted-imports']);
    expect(ruleIds(activity)).toEqual([]);
  });

  it('covers every module the workflow bundle imports', () => {
    const reached = runtimeClosure('workflows/index.ts');
    expect(reached).toContain('workflows/agent-run.ts');
    expect(reached).toContain('src/contract.ts');
    expect(reached.filter((file) => !/^(workflows|src)\//.test(file))).toEqual([]);
    // The one module of src/ the rule leaves out (it reads the dev server's run folder) stays out of the bundle.
    expect(reached).not.toContain('src/temporal-address.ts');
  });
});

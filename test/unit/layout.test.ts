/**
 * Files are where a reader looks, and nothing imports upward: each folder imports only the folders
 * below it, and the layout section of CONTRIBUTING.md lists exactly the folders there are.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectImports, REPO } from '../support/imports';

/** Which folders each folder may import from at run time, and which only for types. */
const LAYERS: Record<string, { runtime: string[]; types?: string[] }> = {
  src: { runtime: ['src'] },
  workflows: { runtime: ['workflows', 'src'], types: ['activities'] },
  activities: { runtime: ['activities', 'src'] },
  agents: { runtime: ['agents', 'src'] },
  testing: { runtime: ['testing', 'src', 'runtime', 'client'] },
  codec: { runtime: ['codec', 'src'] },
  runtime: { runtime: ['runtime', 'src', 'activities', 'agents', 'codec'] },
  client: { runtime: ['client', 'src', 'codec'], types: ['workflows'] },
  cli: { runtime: ['cli', 'client', 'src', 'codec'] },
};

const tracked = execFileSync('git', ['ls-files'], { cwd: REPO, encoding: 'utf8' }).trim().split('\n');
const folderOf = (file: string) => (file.includes('/') ? file.split('/')[0] : '(top level)');
/** What ships or runs in production: every layer above, and the entries at the top level. */
const PRODUCT_FOLDERS = Object.keys(LAYERS);

describe('the layout', () => {
  it.each(Object.keys(LAYERS))('%s/ imports nothing above it', (folder) => {
    const { runtime, types = [] } = LAYERS[folder];
    const files = tracked.filter((file) => file.startsWith(`${folder}/`) && file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(0);
    const upward = files.flatMap((file) =>
      projectImports(file)
        .filter(({ target, typeOnly }) => {
          const imported = folderOf(target);
          return !runtime.includes(imported) && !(typeOnly && types.includes(imported));
        })
        .map(({ target }) => `${file} → ${target}`),
    );
    expect(upward).toEqual([]);
  });

  it.each(['client', 'cli', 'workflows'])('%s/ has no import circle among its files (type imports count)', (folder) => {
    const files = tracked.filter((file) => file.startsWith(`${folder}/`) && file.endsWith('.ts'));
    const edges = new Map(
      files.map((file) => [
        file,
        projectImports(file)
          .map(({ target }) => target)
          .filter((target) => files.includes(target)),
      ]),
    );
    const circles: string[] = [];
    // Depth-first search: a file met again while still on the path closes a circle.
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]): void => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        circles.push([...path.slice(path.indexOf(file)), file].join(' → '));
        return;
      }
      state.set(file, 'open');
      for (const target of edges.get(file) ?? []) visit(target, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(circles).toEqual([]);
  });

  it('nothing outside test/ imports test/ (the demo, the bench and the scripts take what they share from shipped modules)', () => {
    const outside = tracked.filter(
      (file) => file.endsWith('.ts') && !file.startsWith('test/') && !file.startsWith('bench/peers/'),
    );
    const intoTests = outside.flatMap((file) =>
      projectImports(file)
        .filter(({ target }) => target.startsWith('test/'))
        .map(({ target }) => `${file} → ${target}`),
    );
    expect(intoTests).toEqual([]);
  });

  it('gives every product file a name of its own (index.ts aside): a reader finds a file by its name', () => {
    const product = tracked.filter(
      (file) => /\.(ts|js|mjs)$/.test(file) && (PRODUCT_FOLDERS.includes(folderOf(file)) || !file.includes('/')),
    );
    const byName = new Map<string, string[]>();
    for (const file of product) {
      const name = file
        .split('/')
        .pop()!
        .replace(/\.(ts|js|mjs)$/, '');
      if (name === 'index') continue;
      byName.set(name, [...(byName.get(name) ?? []), file]);
    }
    expect([...byName.values()].filter((files) => files.length > 1)).toEqual([]);
  });

  it("matches CONTRIBUTING.md's layout section, one line per folder", () => {
    const contributing = readFileSync(join(REPO, 'CONTRIBUTING.md'), 'utf8');
    const heading = contributing.search(/^## Layout$/m);
    expect(heading).toBeGreaterThanOrEqual(0);
    const section = contributing.slice(heading);
    const open = section.indexOf('```text\n');
    const nextHeading = section.slice(1).search(/^## /m) + 1 || section.length;
    expect(open).toBeGreaterThan(0);
    expect(open).toBeLessThan(nextHeading);
    const block = section.slice(open + '```text\n'.length, section.indexOf('```', open + 3));
    const documented = [...block.matchAll(/^([\w.-]+)\/\s/gm)].map((match) => match[1]);
    expect(documented).toEqual([...new Set(documented)]);
    const folders = [...new Set(tracked.filter((file) => file.includes('/')).map(folderOf))]
      .filter((folder) => !folder.startsWith('.'))
      .sort();
    expect([...documented].sort()).toEqual(folders);
  });
});

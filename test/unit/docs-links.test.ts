/**
 * The shipped docs (README, CONTRIBUTING, SECURITY, CHANGELOG, docs/, deploy/README.md) hold no dead
 * relative link: each names a file or folder of this repository that git would ship (not ignored, not
 * outside the repo), and a `#fragment` names a heading of the page it points to, slugged as GitHub
 * slugs them. Their JavaScript and TypeScript examples are formatted as the repo's Prettier formats
 * code, since Prettier itself skips markdown here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { REPO } from '../support/imports';

const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  'SECURITY.md',
  'CHANGELOG.md',
  'deploy/README.md',
  ...readdirSync(join(REPO, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The page without its fenced code blocks (their lines blanked, so line numbers stay). */
function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (/^\s*(```|~~~)/.test(line)) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/** GitHub's heading ids (github-slugger): lower case, punctuation dropped, each space a hyphen, repeats numbered. */
function headingSlugs(markdown: string): Set<string> {
  const slugs = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)) {
    const text = heading
      .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/<[^>]+>/g, '')
      .replace(/[`*]/g, '');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    slugs.add(count ? `${base}-${count}` : base);
  }
  return slugs;
}

interface Link {
  page: string;
  line: number;
  target: string;
}

/** Every inline link and image of a page, and every reference definition, outside code. */
function linksOf(page: string): Link[] {
  const text = prose(readFileSync(join(REPO, page), 'utf8')).replace(/`[^`\n]*`/g, (code) => ' '.repeat(code.length));
  const links: Link[] = [];
  const at = (index: number) => text.slice(0, index).split('\n').length;
  for (const match of text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ page, line: at(match.index), target: match[1] });
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    links.push({ page, line: at(match.index), target: match[1] });
  }
  return links;
}

const relativeLinks = PAGES.flatMap(linksOf).filter(({ target }) => !/^[a-z][a-z0-9+.-]*:/i.test(target));

/** Repo paths git ships or would ship: tracked, or new and not ignored. */
const shippable = new Set(
  execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
    .trim()
    .split('\n'),
);
const isShippable = (path: string) =>
  shippable.has(path) || [...shippable].some((file) => file.startsWith(`${path.replace(/\/$/, '')}/`));

/** What is wrong with a link, or undefined. */
function problem({ page, target }: Link): string | undefined {
  const [rawPath, fragment] = target.split('#', 2) as [string, string | undefined];
  const path = decodeURIComponent(rawPath);
  const file = path ? resolve(dirname(join(REPO, page)), path) : join(REPO, page);
  const inRepo = relative(REPO, file);
  if (inRepo.startsWith('..') || inRepo.startsWith(sep) || resolve(REPO, inRepo) !== file) {
    return 'points outside the repository';
  }
  if (!existsSync(file)) return 'no such file';
  if (inRepo && !isShippable(inRepo.split(sep).join('/'))) return 'not in the repository (ignored by git)';
  if (fragment === undefined) return undefined;
  if (!file.endsWith('.md')) return `has #${fragment} but is not a markdown page`;
  if (!headingSlugs(readFileSync(file, 'utf8')).has(decodeURIComponent(fragment))) {
    return `has no heading #${fragment}`;
  }
  return undefined;
}

describe('the docs', () => {
  it('are found', () => {
    expect(PAGES).toEqual(expect.arrayContaining(['docs/testing.md', 'docs/running.md']));
    expect(relativeLinks.length).toBeGreaterThan(50);
  });

  it('link only to files and headings that exist in the repository', () => {
    const dead = relativeLinks
      .map((link) => ({ link, problem: problem(link) }))
      .filter(({ problem }) => problem !== undefined)
      .map(({ link, problem }) => `${link.page}:${link.line} (${link.target}) ${problem}`);
    expect(dead).toEqual([]);
  });

  it('keep README a front door: at most 250 lines, the manual in docs/', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThanOrEqual(250);
    const linked = new Set(linksOf('README.md').map(({ target }) => target.split('#')[0]));
    expect(PAGES.filter((page) => page.startsWith('docs/') && !linked.has(page))).toEqual([]);
  });

  it('slug headings as GitHub does', () => {
    const slugs = headingSlugs(
      [
        '# Local Temporal: `temporal-dev.sh`',
        '## What happens when…',
        '## Talking to runs: the project CLI and the plain Temporal CLI',
        '## Side by side: `npm run bench`',
        '## Side by side: `npm run bench`',
        '```sh',
        '# not a heading',
        '```',
      ].join('\n'),
    );
    expect([...slugs]).toEqual([
      'local-temporal-temporal-devsh',
      'what-happens-when',
      'talking-to-runs-the-project-cli-and-the-plain-temporal-cli',
      'side-by-side-npm-run-bench',
      'side-by-side-npm-run-bench-1',
    ]);
  });

  it("show README's examples formatted as the repo formats code", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const examples = [...readme.matchAll(/^```(js|ts)\n([\s\S]*?)^```$/gm)];
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const [, language, code] of examples) {
      // Prettier's CLI, as `npm run lint` runs it, on the example as if it were a file of the repo.
      const formatted = execFileSync(
        process.execPath,
        [require.resolve('prettier/bin/prettier.cjs'), '--stdin-filepath', join(REPO, `readme-example.${language}`)],
        { cwd: REPO, input: code, encoding: 'utf8' },
      );
      expect(formatted).toBe(code);
    }
  });
});

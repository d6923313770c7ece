/**
 * Where a worker's CPU went, from the profiles `npm run bench -- --cpu-prof DIR` has its workers write
 * (node's `--cpu-prof`: one .cpuprofile per thread, the main thread and the workflow threads): busy
 * time per thread, self time by owner (the project's own files, each package, Node, V8), the top
 * functions by self time, and the project's functions by inclusive time (what they do and everything
 * they call, packages included: the share the project's code is answerable for). Functions of the
 * workflow bundle are named by the module webpack bundled them from, read from the bundle's copy
 * the bench leaves beside the profiles.
 *
 * `tsx bench/support/cpu-profile.ts DIR/agent [--steps N] [--top 40] [--from SECONDS]`: `--steps`
 * divides by the steps the profile covers (ms per step), `--from` leaves out each thread's first
 * seconds (the worker's start-up).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO } from './node-process';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: whose it is (`project`, a package, `node`, `v8`), and the place shown. */
interface Place {
  owner: string;
  where: string;
}

/** Lines of a webpack bundle where each module begins (`/***\/ "./workflows/turn.ts"`), in order. */
type ModuleStarts = { line: number; module: string }[];

const MODULE_HEADER = /^\/\*\*\*\/ "(.+)"/;

function moduleStarts(bundlePath: string): ModuleStarts {
  const starts: ModuleStarts = [];
  readFileSync(bundlePath, 'utf8')
    .split('\n')
    .forEach((text, line) => {
      const match = MODULE_HEADER.exec(text);
      if (match) starts.push({ line, module: match[1] });
    });
  return starts;
}

/** The module of a bundle that holds 0-based `line`. */
function moduleAt(starts: ModuleStarts, line: number): string {
  let low = 0;
  let high = starts.length - 1;
  let found = '(bundle runtime)';
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (starts[middle].line <= line) {
      found = starts[middle].module;
      low = middle + 1;
    } else high = middle - 1;
  }
  return found;
}

const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)/;

/** A bundled module's path as shown: from `node_modules/` for a package's, else without leading `../`. */
function shownModule(module: string): string {
  const at = module.indexOf('node_modules/');
  return at >= 0 ? module.slice(at) : module.replace(/^(\.\.\/)+/, '');
}

/** Whose code `path` (a file path, or a module path inside a bundle) is. */
function ownerOfPath(path: string): string {
  const pack = PACKAGE.exec(path);
  return pack ? pack[1] : 'project';
}

function placeOf(frame: CallFrame, bundles: Map<string, ModuleStarts>): Place {
  const { url, lineNumber } = frame;
  if (!url) return { owner: 'v8', where: '(native)' };
  if (url.startsWith('node:')) return { owner: 'node', where: url };
  // The SDK's glue compiled into each workflow context (`evalmachine.<anonymous>`), and wasm.
  if (!url.startsWith('file://') && !url.startsWith('/')) return { owner: 'vm glue', where: url };
  const path = url.replace(/^file:\/\//, '');
  const bundle = bundles.get(basename(path));
  if (bundle) {
    const module = moduleAt(bundle, lineNumber);
    return { owner: ownerOfPath(module), where: `bundle ${shownModule(module)}` };
  }
  const owner = ownerOfPath(path);
  return {
    owner,
    where: owner === 'project' ? `${relative(REPO, path)}:${lineNumber + 1}` : `${owner}${path.split(PACKAGE)[2]}`,
  };
}

/** Sums of ms by key. */
class Tally {
  readonly ms = new Map<string, number>();
  add(key: string, ms: number): void {
    this.ms.set(key, (this.ms.get(key) ?? 0) + ms);
  }
  top(count: number): [string, number][] {
    return [...this.ms].sort((a, b) => b[1] - a[1]).slice(0, count);
  }
}

export interface ProfileSummary {
  /** Busy ms of each thread's profile (idle left out), by file name. */
  threads: Record<string, number>;
  busyMs: number;
  selfByOwner: Tally;
  selfByFunction: Tally;
  /** Project functions, each counted once per sample its stack holds it in. */
  projectInclusive: Tally;
  /** Samples with a project frame anywhere in the stack. */
  projectInclusiveMs: number;
  /**
   * Samples inside the evaluation of a bundled module (its top-level code: schemas built, constants
   * made), by the innermost such module: the SDK evaluates the bundle's modules again for each run.
   */
  moduleEvaluation: Tally;
}

/** Reads every .cpuprofile in `dir`, leaving out each thread's first `fromMs`. */
export function summarize(dir: string, fromMs = 0): ProfileSummary {
  const files = readdirSync(dir);
  const bundles = new Map(
    files.filter((file) => file.endsWith('.js')).map((file) => [file, moduleStarts(join(dir, file))]),
  );
  const summary: ProfileSummary = {
    threads: {},
    busyMs: 0,
    selfByOwner: new Tally(),
    selfByFunction: new Tally(),
    projectInclusive: new Tally(),
    projectInclusiveMs: 0,
    moduleEvaluation: new Tally(),
  };
  for (const file of files.filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    summary.threads[file] = addProfile(summary, profile, bundles, fromMs);
  }
  summary.busyMs = Object.values(summary.threads).reduce((total, ms) => total + ms, 0);
  return summary;
}

/** Adds one thread's samples to `summary`; returns its busy ms. */
function addProfile(
  summary: ProfileSummary,
  profile: CpuProfile,
  bundles: Map<string, ModuleStarts>,
  fromMs: number,
): number {
  const parent = new Map<number, number>();
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const places = new Map<number, Place>();
  const placeOfNode = (id: number) => {
    let place = places.get(id);
    if (!place) places.set(id, (place = placeOf(nodes.get(id)!.callFrame, bundles)));
    return place;
  };
  const label = (id: number) => `${nodes.get(id)!.callFrame.functionName || '(anonymous)'}  ${placeOfNode(id).where}`;
  let elapsedMs = 0;
  let busyMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    elapsedMs += ms;
    const name = nodes.get(id)!.callFrame.functionName;
    if (elapsedMs < fromMs || name === '(idle)') return;
    busyMs += ms;
    const place = placeOfNode(id);
    summary.selfByOwner.add(name.startsWith('(') ? name : place.owner, ms);
    summary.selfByFunction.add(label(id), ms);
    const seen = new Set<string>();
    let evaluating: string | undefined;
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      if (placeOfNode(at).owner === 'project') seen.add(label(at));
      // webpack names a module's factory after the module (`./workflows/turn.ts`).
      const factory = nodes.get(at)!.callFrame.functionName;
      if (evaluating === undefined && placeOfNode(at).where === `bundle ${shownModule(factory)}`)
        evaluating = shownModule(factory);
    }
    if (evaluating) summary.moduleEvaluation.add(evaluating, ms);
    for (const key of seen) summary.projectInclusive.add(key, ms);
    if (seen.size) summary.projectInclusiveMs += ms;
  });
  return busyMs;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { steps: { type: 'string' }, top: { type: 'string' }, from: { type: 'string' } },
  });
  if (positionals.length !== 1) throw new Error('usage: cpu-profile.ts DIR [--steps N] [--top 40] [--from SECONDS]');
  const summary = summarize(positionals[0], Number(values.from ?? 0) * 1000);
  const steps = Number(values.steps ?? 0);
  const top = Number(values.top ?? 40);
  const share = (ms: number) =>
    `${ms.toFixed(0).padStart(7)} ms ${((100 * ms) / summary.busyMs).toFixed(1).padStart(5)}%` +
    (steps ? ` ${(ms / steps).toFixed(3).padStart(7)} ms/step` : '');
  const print = (title: string, rows: [string, number][]) =>
    console.log(`\n${title}\n${rows.map(([key, ms]) => `${share(ms)}  ${key}`).join('\n')}`);
  print('busy per thread', Object.entries(summary.threads));
  console.log(
    `\nall threads: ${share(summary.busyMs)}; stacks holding project code: ${share(summary.projectInclusiveMs)}`,
  );
  print('self time by owner', summary.selfByOwner.top(top));
  print(`top ${top} functions by self time`, summary.selfByFunction.top(top));
  print(`top ${top} project functions by inclusive time`, summary.projectInclusive.top(top));
  const evaluation = [...summary.moduleEvaluation.ms.values()].reduce((total, ms) => total + ms, 0);
  print(`bundled modules evaluated (${share(evaluation).trim()} in all), by module`, summary.moduleEvaluation.top(top));
}

if (require.main === module) main();

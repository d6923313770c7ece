/**
 * The npm package as a user gets it: `npm pack` (which builds dist/ through prepack), the tarball
 * unpacked into a project of its own, and then its bin, its type declarations against a plug-in
 * module written for it, and its compiled worker and CLI on the test's dev server.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { byTurn, lastOf, reply, startScriptedModel } from '../../testing';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../support/dev-server';
import { testAddress } from '../support/harness';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';

const REPO = join(__dirname, '..', '..');
const execute = promisify(execFile);
const { version } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };

/** A plug-in module written against the package: its agent-author API, as README documents it. */
const PLUGIN = `
import { defineAgent, defineTool, z, type PluginApi } from 'durable-agents';
import type { AgentClient } from 'durable-agents/client';
import type { createAgentWorker } from 'durable-agents/worker';
import type { startAgentTest, startScriptedModel } from 'durable-agents/testing';

const forecast = defineTool({
  name: 'forecast',
  description: 'Forecast for a city',
  input: z.object({ city: z.string() }),
  execute: ({ city }) => ({ city: city.toUpperCase(), sky: 'sunny' }),
});

export default ({ defineAgent: define }: PluginApi) => [
  defineAgent({ name: 'weather', instructions: 'Answer with the forecast tool.', tools: [forecast] }),
  define({ name: 'echo', instructions: 'Repeat what the user says.', tools: [] }),
];

// The other entry points resolve, with their types.
export type Surfaces = [AgentClient, typeof createAgentWorker, typeof startScriptedModel, typeof startAgentTest];
`;

/** The same with a type error: the tool's input is a string, not a number. */
const BROKEN_PLUGIN = PLUGIN.replace('city.toUpperCase()', 'city.toFixed(1)');

/** An agent author's test, in plain Node: `startAgentTest` from the testing entry, on the test's server. */
const AGENT_TEST = `
const { defineAgent } = require('durable-agents');
const { byTurn, reply, startAgentTest } = require('durable-agents/testing');

(async () => {
  const echo = defineAgent({ name: 'echo', instructions: 'Repeat what the user says.', tools: [] });
  const test = await startAgentTest({ agents: [echo], script: byTurn([reply.text('Hello!')]), address: process.env.ADDRESS });
  try {
    const result = await test.client.result(await test.client.start({ agent: 'echo', message: 'Hello!' }));
    console.log(result.status, result.output);
  } finally {
    await test.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

describe('the npm package', () => {
  let dir: string;
  let project: string;
  let files: string[];
  /** The tarball's name, as `npm pack` writes it into a checkout too. */
  let tarball: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'durable-agents-package-'));
    // stdout is npm's JSON alone; the build's output (prepack) goes to stderr.
    const { stdout } = await execute('npm', ['pack', '--json', '--pack-destination', dir], {
      cwd: REPO,
      timeout: 120_000,
    });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = packed.files.map((file) => file.path);
    tarball = packed.filename;
    await execute('tar', ['xzf', join(dir, packed.filename), '-C', dir]);

    // A project that has installed the package. Its dependencies are the repo's own, symlinked: the
    // same versions the lockfile pins, nothing downloaded, and no registry needed (npm install would
    // fetch the package's dependencies even from a local tarball). The repo's devDependencies come
    // along too, which is where the plug-in's check gets TypeScript and @types/node.
    project = join(dir, 'project');
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, '.bin'), { recursive: true });
    for (const entry of readdirSync(join(REPO, 'node_modules'))) {
      if (entry.startsWith('.')) continue;
      symlinkSync(join(REPO, 'node_modules', entry), join(modules, entry));
    }
    renameSync(join(dir, 'package'), join(modules, 'durable-agents'));
    // What npm does for the package's bin.
    symlinkSync(join('..', 'durable-agents', 'bin', 'durable-agents.js'), join(modules, '.bin', 'durable-agents'));
    // An ES module project, like the README's plug-in, importing the package (CommonJS) by name.
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'plugin-check', type: 'module' }));
    const compilerOptions = {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      types: ['node'],
      // As in the repo: @temporalio/common's declarations import 'ms', which ships no types of its own.
      skipLibCheck: true,
    };
    writeFileSync(join(project, 'weather.ts'), PLUGIN);
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['weather.ts'] }));
    writeFileSync(join(project, 'broken.ts'), BROKEN_PLUGIN);
    writeFileSync(join(project, 'tsconfig.broken.json'), JSON.stringify({ compilerOptions, files: ['broken.ts'] }));
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs `command` in the project with the repo's Node first on PATH; never throws. */
  async function inProject(command: string, args: string[], env: Record<string, string> = {}) {
    try {
      const { stdout, stderr } = await execute(command, args, {
        cwd: project,
        env: { PATH: `${join(process.execPath, '..')}:${process.env.PATH}`, HOME: process.env.HOME!, ...env },
        timeout: 60_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }

  it('holds the compiled code, its declarations, the bin and README, and no sources or tests', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'bin/durable-agents.js',
        'dist/cli.js',
        'dist/src/index.d.ts',
        'dist/workflows/index.js',
        'dist/agents/helpdesk/data/orders.json',
      ]),
    );
    expect(files.filter((file) => !/^(dist\/|bin\/|package\.json$|README\.md$)/.test(file))).toEqual([]);
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    // `npm pack` in the repo leaves the tarball beside the sources: git ignores it.
    expect(execFileSync('git', ['check-ignore', tarball], { cwd: REPO, encoding: 'utf8' }).trim()).toBe(tarball);
  });

  it("runs its bin (the compiled CLI) and prints package.json's version", async () => {
    const outcome = await inProject(join(project, 'node_modules', '.bin', 'durable-agents'), ['--version']);
    expect(outcome).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('type-checks a plug-in written against it, and rejects one with a type error', async () => {
    const tsc = join(project, 'node_modules', 'typescript', 'bin', 'tsc');
    const good = await inProject(process.execPath, [tsc, '-p', 'tsconfig.json']);
    expect(good).toEqual({ code: 0, stdout: '', stderr: '' });
    const broken = await inProject(process.execPath, [tsc, '-p', 'tsconfig.broken.json']);
    expect(broken.code).not.toBe(0);
    // The error the plug-in has, and only it: the package's types reach the tool's input.
    expect(broken.stdout.trim().split('\n')).toEqual([
      expect.stringMatching(/^broken\.ts\(\d+,\d+\): error TS\d+: Property 'toFixed' does not exist on type 'string'/),
    ]);
  });

  it('runs an agent test with its testing entry (startAgentTest)', async () => {
    writeFileSync(join(project, 'agent-test.cjs'), AGENT_TEST);
    const outcome = await inProject(process.execPath, ['agent-test.cjs'], { ADDRESS: testAddress() });
    expect(outcome).toMatchObject({ code: 0, stdout: 'completed Hello!\n' });
  });

  it("its agents command lists what its worker registers: AGENT_MODULES' agents, the helpdesk when named", async () => {
    const bin = join(project, 'node_modules', '.bin', 'durable-agents');
    const listed = async (modules: string) => {
      const env = { AGENT_MODULES: modules, TEMPORAL_ADDRESS: '127.0.0.1:1' };
      const outcome = await inProject(bin, ['agents', '--json'], env);
      expect(outcome).toMatchObject({ code: 0, stderr: '' });
      return (JSON.parse(outcome.stdout) as { name: string; source: string }[]).map(
        ({ name, source }) => `${name} (${source})`,
      );
    };
    expect(await listed('./weather.ts')).toEqual(['echo (./weather.ts)', 'weather (./weather.ts)']);
    // The example ships in the package, by name: no path into node_modules needed.
    expect(await listed('helpdesk,./weather.ts')).toEqual([
      'echo (./weather.ts)',
      'helpdesk (built-in)',
      'weather (./weather.ts)',
    ]);
  });

  it('runs its compiled worker with a TypeScript plug-in, and its CLI runs an agent on it', async () => {
    const model = await startScriptedModel(
      byTurn([reply.tools([{ name: 'forecast', args: { city: 'Lisbon' } }]), reply.text('Sunny in Lisbon.')]),
    );
    const env = {
      TEMPORAL_ADDRESS: testAddress(),
      TASK_QUEUE: `package-${process.pid}-${Date.now()}`,
      OPENAI_BASE_URL: model.baseUrl,
      AGENT_MODULES: './weather.ts',
      HELPDESK_LEDGER: join(dir, 'ledger.jsonl'),
    };
    // The compiled worker program as a package user runs it: plain Node, which bundles the workflows
    // from dist/ and loads the TypeScript plug-in through tsx.
    const child = spawn(process.execPath, [join('node_modules', 'durable-agents', 'dist', 'worker.js')], {
      cwd: project,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const worker: WorkerProcess = {
      child,
      output: () => output,
      exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))),
    };
    try {
      await waitUntilPolling(worker);
      // The plug-in's agents only: the example helpdesk is not in a production worker unless named.
      expect(output).toMatch(/agents: echo, weather\n/);
      const bin = join(project, 'node_modules', '.bin', 'durable-agents');
      const started = await inProject(bin, ['start', 'weather', 'Weather in Lisbon?', '--wait', '--json'], env);
      expect(started.code).toBe(0);
      // The run's events a line each, the result last.
      expect(JSON.parse(started.stdout.trim().split('\n').at(-1)!)).toMatchObject({
        result: { status: 'completed', output: 'Sunny in Lisbon.' },
      });
      expect(JSON.parse(lastOf(model.requests[1], 'tool')!.content)).toEqual({ city: 'LISBON', sky: 'sunny' });
    } finally {
      child.kill('SIGTERM');
      await worker.exited;
      await model.close();
    }
  });

  it('names its own bin in every hint, and its dev says how to run on any Temporal (it has no temporal-dev.sh)', async () => {
    const bin = join(project, 'node_modules', '.bin', 'durable-agents');
    // A queue no worker polls: the run waits, and status says what to start, as this project runs it.
    const env = { TEMPORAL_ADDRESS: testAddress(), TASK_QUEUE: `package-hints-${process.pid}-${Date.now()}` };
    const started = await inProject(bin, ['start', 'weather', 'Weather in Lisbon?'], {
      ...env,
      AGENT_MODULES: './weather.ts',
    });
    expect(started.code).toBe(0);
    const id = started.stdout.trim();
    try {
      const status = await inProject(bin, ['status', id], env);
      expect(status.stderr).toBe(
        `note: no worker is polling task queue "${env.TASK_QUEUE}": this is what the run last recorded ` +
          `(start one: TASK_QUEUE=${env.TASK_QUEUE} npx durable-agents worker)\n`,
      );
    } finally {
      const connection = await Connection.connect({ address: testAddress() });
      await new Client({ connection }).workflow.getHandle(id).terminate('test over');
      await connection.close();
    }

    // Nothing answers on the port, and there is no script to start a dev server with: what to do instead.
    const port = await freePort();
    const dev = await inProject(bin, ['dev'], { TEMPORAL_PORT: String(port) });
    expect(dev).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `error: nothing answers at 127.0.0.1:${port} (TEMPORAL_PORT), and starting a dev server takes ` +
        './temporal-dev.sh, which only a checkout of the durable-agents repository has; run any Temporal ' +
        '(temporal server start-dev, or Temporal Cloud) and name it: npx durable-agents --address HOST:PORT dev ' +
        '(or TEMPORAL_ADDRESS, or --profile)\n',
    });
    // A refused connection says how to get a server without the script too.
    const refused = await inProject(bin, ['list'], { TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(refused.stderr).toBe(
      `error: cannot reach Temporal at 127.0.0.1:${port} (TEMPORAL_ADDRESS): connection refused ` +
        '(start one: temporal server start-dev)\n',
    );
  });
});

/**
 * Your own agent on the offline demo model (issue #23): README's weather agent, its module file and
 * its commands taken from README itself and run as a newcomer runs them (in a checkout, with no key),
 * completes offline with its `forecast` tool run; and an agent with an approval tool stops for the
 * approval offline and completes once it is given, its tools called with schema-valid arguments.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OFFLINE_ANSWER_LABEL, OFFLINE_MODEL_NAME } from '../../runtime/offline-model';
import { pendingCall, runCli } from '../support/cli';
import { tempPath, workerEnv } from '../support/harness';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const REPO = join(__dirname, '..', '..');

/** README's weather example: the module (its `// weather.mjs` block) and the shell block after it. */
function readmeExample(): { module: string; commands: string[] } {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const module = /```js\n(\/\/ weather\.mjs\n[\s\S]*?)```/.exec(readme);
  if (!module) throw new Error('README has no ```js block starting with // weather.mjs');
  const rest = readme.slice(module.index + module[0].length);
  const shell = /```sh\n([\s\S]*?)```/.exec(rest);
  if (!shell) throw new Error("README has no ```sh block after the weather agent's module");
  return { module: module[1], commands: shell[1].trim().split('\n') };
}

/** A checkout of this repository (its files, linked) with the user's `weather.mjs` beside them. */
function checkoutWith(files: Record<string, string>): string {
  const checkout = tempPath('checkout');
  mkdirSync(checkout);
  for (const entry of readdirSync(REPO)) {
    if (!entry.startsWith('.') && !(entry in files)) symlinkSync(join(REPO, entry), join(checkout, entry));
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(checkout, name), text);
  return checkout;
}

/** Runs a README command line in `cwd` through the shell, as a person pastes it; its process group ends with `stop`. */
function shell(
  command: string,
  cwd: string,
  env: Record<string, string>,
): WorkerProcess & { stdout(): string; stop(): void } {
  const child = spawn('sh', ['-c', command], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let stdout = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
    stdout += chunk;
  });
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const stop = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  };
  return { child, output: () => output, stdout: () => stdout, exited, stop };
}

/** Env with neither a key nor an endpoint nor a model: what a newcomer's shell has. */
const newcomerEnv = () =>
  workerEnv({
    OPENAI_API_KEY: undefined,
    OPENAI_BASE_URL: undefined,
    AGENT_MODEL: undefined,
    AGENT_MODULES: undefined,
  });

const processes = useWorkerProcesses();

describe('your own agent on the offline demo model', () => {
  it("README's weather agent, run as README shows with no key, completes offline and its forecast tool ran", async () => {
    const { module, commands } = readmeExample();
    // `./temporal-dev.sh start && <worker> &`: the test's server is running already; the worker part as written.
    const workerCommand = commands[0].split('&&').at(-1)!.trim().replace(/&$/, '').trim();
    expect(workerCommand).toMatch(/^AGENT_MODULES=\.\/weather\.mjs npm run worker -- --offline$/);
    const checkout = checkoutWith({ 'weather.mjs': module });
    const env = newcomerEnv();
    const worker = shell(workerCommand, checkout, env);
    try {
      await waitUntilPolling(worker, 90_000);
      expect(worker.output()).toMatch(/^worker: model OFFLINE DEMO MODEL/m);
      const started = shell(commands[1], checkout, env);
      expect({ code: await started.exited, output: started.output() }).toMatchObject({ code: 0 });
      const [id, ...printed] = started.stdout().trim().split('\n');
      // The answer quotes what the agent's own tool returned: it ran, with a city from the schema's name.
      expect(printed.join('\n')).toContain(
        `${OFFLINE_ANSWER_LABEL} forecast returned {"city":"Lisbon","sky":"sunny"}.`,
      );

      const result = JSON.parse((await runCli(['result', id, '--json'], env)).stdout);
      expect(result).toMatchObject({ status: 'completed', steps: 2 });
      expect(Object.keys(result.usage.byModel)).toEqual([OFFLINE_MODEL_NAME]);
    } finally {
      worker.stop();
      await worker.exited;
    }
  }, 180_000);

  it('an agent with an approval tool stops for the approval offline, and completes once approved', async () => {
    const env = { ...newcomerEnv(), AGENT_MODULES: 'test/fixtures/trip-agent.mjs' };
    const worker = processes.spawn(env, ['--offline']);
    await waitUntilPolling(worker);
    expect(worker.output()).toMatch(/agents: helpdesk, trips\n/);

    const id = (
      await runCli(['start', 'trips', 'Two seats from Lisbon to Porto on Friday, please.'], env)
    ).stdout.trim();
    const callId = await pendingCall(id, env, 'book_trip');
    const waiting = JSON.parse((await runCli(['status', id, '--json'], env)).stdout);
    // The arguments, made up from the tool's schema: a pattern, an array of objects, an email, an enum.
    expect(waiting.pendingApprovals[0].args).toEqual({
      flightId: 'AA000',
      travellers: [{ name: 'Ada Lovelace', email: 'ada@example.com' }],
      total: { amount: 25, currency: 'EUR' },
    });
    expect(await runCli(['approve', id, callId], env)).toMatchObject({ code: 0 });

    const { code, stdout } = await runCli(['result', id, '--json'], env, 60_000);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ status: 'completed', steps: 2 });
    expect(result.output).toMatch(
      new RegExp(`^${OFFLINE_ANSWER_LABEL.replace(/[()]/g, '\\$&')} find_flights returned `),
    );
    expect(result.output).toContain(
      '{"search":{"from":"Lisbon","to":"Porto","date":"2026-06-15","passengers":2,"cabin":"economy"},' +
        '"flights":[{"flightId":"TP1942","priceEur":89}]}',
    );
    expect(result.output).toContain(
      'book_trip returned {"booked":true,"booking":{"flightId":"AA000","travellers":[{"name":"Ada Lovelace",' +
        '"email":"ada@example.com"}],"total":{"amount":25,"currency":"EUR"}}}.',
    );
  }, 180_000);
});

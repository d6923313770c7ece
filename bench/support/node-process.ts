/**
 * A TypeScript program as a child process of its own (`node --import tsx <script>`: one process, no
 * launcher in between, so its pid's CPU and memory are the program's), started and stopped by the bench.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The repository's root: workers run there, as `npm run worker` does. */
export const REPO = join(__dirname, '..', '..');

export interface NodeProcess {
  child: ChildProcess;
  pid: number;
  /** What it wrote on stdout and stderr so far. */
  output(): string;
  /** Resolves once a line of its output matches `ready`; rejects if it exits first or after `timeoutMs`. */
  ready(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /**
   * SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended once it is gone
   * (`forced` when it had to be killed).
   */
  stop(graceMs?: number): Promise<{ code: number | null; signal: string | null; forced: boolean; ms: number }>;
}

/**
 * Starts `script` (a path from the repo root, or absolute) under tsx with exactly `env` (plus PATH and
 * HOME): nothing of the bench's own environment leaks into what is measured. `ipc` opens Node's
 * message channel to it (`child.send`, `process.send`); `nodeArgs` go to node before the script.
 */
export function spawnNodeProcess(
  script: string,
  env: Record<string, string>,
  options: { ipc?: boolean; nodeArgs?: readonly string[] } = {},
): NodeProcess {
  const args = [...(options.nodeArgs ?? []), '--import', 'tsx', join(REPO, script)];
  return spawnMeasuredProcess(process.execPath, args, env, options);
}

/**
 * Node's flags that write a CPU profile of every thread of the process into `dir` when it exits
 * (`CPU.<date>.<pid>.<tid>.cpuprofile`, one per thread: the worker's main thread and its workflow
 * threads): the bench's `--cpu-prof DIR`, read by `bench/support/cpu-profile.ts`.
 */
export function cpuProfileArgs(dir: string | undefined): string[] {
  return dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
}

/**
 * Starts `command` with `args` in `cwd` (default: the repo root) with exactly `env` (plus PATH and
 * HOME), its output kept: a peer's plain-JavaScript process or a server binary, one process each.
 */
export function spawnMeasuredProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  options: { ipc?: boolean; cwd?: string } = {},
): NodeProcess {
  const script = args.at(-1) ?? command;
  const child = spawn(command, args, {
    cwd: options.cwd ?? REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])],
  });
  if (child.pid === undefined) throw new Error(`could not start ${script}`);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    pid: child.pid,
    output: () => output,
    async ready(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output)) {
        if (child.exitCode !== null || child.signalCode !== null)
          throw new Error(`${script} exited before it was ready:\n${output}`);
        if (Date.now() > deadline) throw new Error(`${script} was not ready within ${timeoutMs} ms:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async stop(graceMs = 15_000) {
      const t0 = performance.now();
      let forced = false;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          forced = true;
          child.kill('SIGKILL');
        }, graceMs);
        await exited.finally(() => clearTimeout(timer));
      }
      return { ...(await exited), forced, ms: performance.now() - t0 };
    },
  };
}

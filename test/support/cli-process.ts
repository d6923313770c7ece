/**
 * The project CLI as a long-running process (`cli.ts <args>` under tsx): for `dev` and `worker`,
 * which run until they are signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

/** `durable-agents <args>` with `env` (and PATH, HOME). */
export function spawnCli(args: string[], env: Record<string, string>): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO, 'cli.ts'), ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Resolves once the process has printed `text` on stdout; rejects if it exits first or takes longer than `timeoutMs`. */
export async function waitForOutput(cli: CliProcess, text: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cli.stdout().includes(text)) {
    if (cli.child.exitCode !== null || cli.child.signalCode !== null) {
      throw new Error(`exited before printing ${JSON.stringify(text)}:\n${cli.stdout()}\n${cli.stderr()}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`did not print ${JSON.stringify(text)} in ${timeoutMs} ms:\n${cli.stdout()}\n${cli.stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The project CLI as a real process (`client.ts` under tsx), for tests that check what a person sees.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const REPO = join(__dirname, '..', '..');
const run = promisify(execFile);

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `durable-agents <args>` with `env` (and PATH) and returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'client.ts', ...args], {
      cwd: REPO,
      env: { PATH: process.env.PATH!, ...env },
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliOutcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

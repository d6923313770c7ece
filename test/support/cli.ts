/**
 * The project CLI as a real process (`cli.ts` under tsx), for tests that check what a person sees.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { byTurn, lastOf, reply, turnOf, type Script } from '../../testing';
import { eventually } from './eventually';

const REPO = join(__dirname, '..', '..');
const run = promisify(execFile);

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `command` in the repo with exactly `env` and returns its exit code and output (never throws). */
export async function runCommand(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 30_000,
): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(command, args, { cwd: REPO, env, timeout: timeoutMs });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as CliOutcome;
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Runs `durable-agents <args>` with `env` (and PATH) and returns its exit code and output. */
export async function runCli(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<CliOutcome> {
  return runCommand(
    process.execPath,
    ['--import', 'tsx', 'cli.ts', ...args],
    { PATH: process.env.PATH!, ...env },
    timeoutMs,
  );
}

/**
 * The model the CLI tests talk to, by the run's first message: `refund…` asks for a refund of order
 * 1042 (which waits for approval) and then answers, `slow…` takes a minute, anything else is echoed.
 */
export const cliScript: Script = (request, index) => {
  const first = request.messages.find((message) => message.role === 'user')?.content ?? '';
  if (first.startsWith('refund')) {
    return byTurn([
      reply.tools([{ name: 'issue_refund', args: { orderId: '1042', amountUsd: 129, reason: 'delayed' } }]),
      reply.text('Refund handled.'),
    ])(request, index);
  }
  if (first.startsWith('slow')) return { kind: 'message', content: 'finally', delayMs: 60_000 };
  return reply.text(`echo ${lastOf(request, 'user')?.content} (turn ${turnOf(request)})`);
};

/** Asserts a failure told in one line on stderr, nothing on stdout, with exit code `code`. */
export function expectOneLineError(outcome: CliOutcome, code: number, message: RegExp): void {
  expect(outcome.code).toBe(code);
  expect(outcome.stdout).toBe('');
  const lines = outcome.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
}

/** Polls `status` through the CLI until the run waits for approval of `tool`; returns its call id. */
export async function pendingCall(id: string, env: Record<string, string>, tool: string): Promise<string> {
  return eventually(
    async () => {
      const status = await runCli(['status', id, '--json'], env);
      if (status.code !== 0) return undefined;
      const state = JSON.parse(status.stdout) as { pendingApprovals?: { callId: string; tool: string }[] };
      return state.pendingApprovals?.find((pending) => pending.tool === tool)?.callId;
    },
    `${id} to await approval of ${tool}`,
    60_000,
  );
}

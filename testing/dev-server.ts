/**
 * A real Temporal dev server for tests and benchmarks: in memory, on a free port, with the project's
 * search attributes registered, started from the Temporal CLI (in a checkout of this repository the
 * one `temporal-dev.sh install` provides, elsewhere `temporal` on PATH). This project's test run
 * starts one in jest's globalSetup and the bench one per row; an agent author's test suite can share
 * one the same way and point `startAgentTest({ address })` at it (agent-test.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributes } from '../src/contract';

const CLI_TYPES: Record<string, string> = {
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  TEXT: 'Text',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

/** `Name=Type` pairs for `--search-attribute`, from the contract module. */
export function searchAttributeFlags(): string[] {
  return Object.values(searchAttributes).map((key) => `${key.name}=${CLI_TYPES[key.type]}`);
}

/** The checkout's temporal-dev.sh, from the sources (testing/) or a build (dist/testing/); none in an installed package. */
function devScript(): string | undefined {
  return [join(__dirname, '..'), join(__dirname, '..', '..')]
    .map((dir) => join(dir, 'temporal-dev.sh'))
    .find((script) => existsSync(script));
}

/** `temporal` on PATH, if it is there and executable. */
function onPath(): string | undefined {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'temporal'))
    .find((candidate) => {
      try {
        accessSync(candidate, constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

let binary: string | undefined;

/**
 * The Temporal CLI binary, if there is one: in a checkout, the one `temporal-dev.sh install` provides
 * (PATH first, else it installs one into .temporal/); elsewhere `temporal` on PATH.
 */
export function findTemporalBinary(): string | undefined {
  const script = devScript();
  if (!script) return onPath();
  binary ??= execFileSync(script, ['install'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    .trim()
    .split('\n')
    .pop()!;
  return binary;
}

/** The Temporal CLI binary, or an error that says how to get one. */
export function temporalBinary(): string {
  const found = findTemporalBinary();
  if (!found) throw new Error('no Temporal CLI: install it (https://docs.temporal.io/cli) and put `temporal` on PATH');
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface DevServer {
  /** host:port, for clients and workers; the namespace is `default`. */
  address: string;
  process: ChildProcess;
}

/**
 * Starts the server and resolves once it answers gRPC; rejects with its output if it exits first.
 * `extraArgs` go to `temporal server start-dev` (e.g. `--dynamic-config-value KEY=JSON`). Stop it with
 * `stopDevServer(server.process)`.
 */
export async function startDevServer(extraArgs: string[] = []): Promise<DevServer> {
  const binary = temporalBinary();
  const port = await freePort();
  const args = [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--log-level',
    'error',
  ];
  for (const flag of searchAttributeFlags()) args.push('--search-attribute', flag);
  args.push(...extraArgs);
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`temporal dev server exited (${child.exitCode}): ${stderr}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return { address, process: child };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  await stopDevServer(child);
  throw new Error(`temporal dev server did not answer on ${address} within 60 s: ${stderr}`);
}

export function stopDevServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid, 'SIGTERM');
  const force = setTimeout(() => child.pid && process.kill(-child.pid, 'SIGKILL'), 10_000);
  return exited.finally(() => clearTimeout(force));
}

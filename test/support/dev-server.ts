/**
 * A real Temporal dev server for the test run: in memory, on a free port, started from the same CLI
 * binary `temporal-dev.sh install` provides, with the project's search attributes registered.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributes } from '../../src/contract';

const REPO = join(__dirname, '..', '..');

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

let binary: string | undefined;

/** The Temporal CLI binary, installed by `temporal-dev.sh` if it is not yet there. */
export function temporalBinary(): string {
  binary ??= execFileSync(join(REPO, 'temporal-dev.sh'), ['install'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  })
    .trim()
    .split('\n')
    .pop()!;
  return binary;
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
  address: string;
  process: ChildProcess;
}

/** Starts the server and resolves once it answers gRPC; rejects with its output if it exits first. */
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

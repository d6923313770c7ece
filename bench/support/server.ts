/**
 * The Temporal dev server the bench runs on (the tests' one, testing/dev-server.ts: in memory, on a
 * free port, search attributes registered), with eager activity dispatch on or off, and its pid
 * checked to be the `temporal` binary itself so its /proc figures are the server's.
 */
import { Client, Connection } from '@temporalio/client';
import { startDevServer, stopDevServer, type DevServer } from '../../testing/dev-server';
import { commandName, descendants } from './proc';

export interface BenchServer extends Pick<DevServer, 'address'> {
  /** The server's main process: the dev server, or a cluster's frontend. */
  pid: number;
  /** Every process whose CPU is the server's (each with its descendants): the dev server's one, a cluster's five. */
  pids: number[];
  /** What it is, for the table's notes: `Temporal dev server 4330`. */
  what: string;
  /** Whether activities are dispatched eagerly; undefined where the server's own settings decide (a cluster). */
  eager?: boolean;
  client: Client;
  /**
   * Rejects if the server exits before `stop()` (killed from outside, crashed), naming its exit code or
   * signal and the end of its stderr: race a row against it, or the row's client waits for minutes.
   */
  died: Promise<never>;
  stop(): Promise<void>;
}

/**
 * Starts the server; `eager` sets `system.enableActivityEagerExecution` (activities a workflow task
 * schedules go straight back to the worker that completed it, when it has a free slot).
 */
export async function startBenchServer(eager: boolean): Promise<BenchServer> {
  const server = await startDevServer(
    eager ? ['--dynamic-config-value', 'system.enableActivityEagerExecution=true'] : [],
  );
  const pid = server.process.pid!;
  const name = commandName(pid);
  const children = descendants(pid);
  if (!name.startsWith('temporal') || children.length) {
    await stopDevServer(server.process);
    throw new Error(`the dev server's pid ${pid} is ${name} with ${children.length} children, not the temporal binary`);
  }
  let stderr = '';
  server.process.stderr?.on('data', (chunk) => (stderr = (stderr + chunk).slice(-2_000)));
  let stopping = false;
  const died = new Promise<never>((_, reject) =>
    server.process.once('exit', (code, signal) => {
      if (!stopping)
        reject(
          new Error(`the dev server (pid ${pid}) exited during the bench (${signal ?? `code ${code}`}): ${stderr}`),
        );
    }),
  );
  died.catch(() => undefined);
  const connection = await Connection.connect({ address: server.address });
  return {
    address: server.address,
    pid,
    pids: [pid],
    what: `Temporal dev server ${pid}`,
    eager,
    client: new Client({ connection }),
    died,
    async stop() {
      stopping = true;
      await connection.close();
      await stopDevServer(server.process);
    },
  };
}

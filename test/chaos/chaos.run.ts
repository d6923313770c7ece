/**
 * Chaos test (issue #8): 30 concurrent runs of an agent whose tool pays (a side effect recorded in a
 * ledger keyed by idempotency key), while the worker process is SIGKILLed at random moments three
 * times (a new one started each time) and the file-backed dev server is SIGKILLed and started again
 * on the same port and db file once. Every run must complete with the expected output and the ledger
 * must hold exactly one payment per tool call. It prints the recovery times it saw.
 *
 * `npm run test:chaos`: a tsx script, not a jest test (it owns its dev server, whose restart would
 * break the shared one of `npm test`); exit code 1 on failure. Env: `CHAOS_SEED=<n>` replays a run's
 * plan and schedule (the moments themselves depend on timing), `CHAOS_SERVER_DOWNTIME_MS` overrides
 * how long the server stays down, `CHAOS_VERBOSE=1` prints every worker's output.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { workflowBundleOptions } from '../../runtime/workflow-modules';
import { reply, startScriptedModel } from '../../testing';
import { freePort, searchAttributeFlags, temporalBinary } from '../support/dev-server';
import { judgeLedger } from '../support/ledger-verdict';
import { PayingRuns } from '../support/paying-runs';
import { seededRandom } from '../support/seeded-random';
import { spawnWorker, waitUntilPolling, type WorkerProcess } from '../support/worker-process';
import { readJsonLines, type Invocation } from './chaos-agent';

const RUNS = 30;
const WORKER_KILLS = 3;
/** The runs must all be done this long after the start; past WATCHDOG_MS the test gives up whatever it waits for. */
const DEADLINE_MS = 150_000;
const WATCHDOG_MS = 200_000;
/** How long a kill or the server restart may take to show progress before the test gives up. */
const RECOVERY_TIMEOUT_MS = 60_000;

const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const t0 = Date.now();
const since = (at: number) => `+${((at - t0) / 1000).toFixed(1)}s`;
const log = (line: string) => console.log(`[chaos ${since(Date.now())}] ${line}`);

// The seed draws the plan and the schedule, so a failing one replays with CHAOS_SEED.
const { random, between } = seededRandom(seed);
/** What each run's model asks for, decided up front from the seed. */
const runs = new PayingRuns(`chaos-${seed}`, RUNS, between, { min: 150, max: 600 });
const plans = runs.plans;

// ---------------------------------------------------------------------------------------------------
// A dev server of our own, on a file, that can be killed and started again on the same port.

interface Server {
  child: ChildProcess;
  exited: Promise<number | string>;
  output(): string;
}

async function startServer(port: number, dbFile: string): Promise<Server> {
  const args = ['server', 'start-dev', '--headless', '--ip', '127.0.0.1', '--port', String(port)];
  args.push('--db-filename', dbFile, '--log-level', 'error');
  for (const flag of searchAttributeFlags()) args.push('--search-attribute', flag);
  const child = spawn(temporalBinary(), args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let output = '';
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const server = { child, exited, output: () => output };
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dev server exited (${child.exitCode}): ${output}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: 'default' });
      } finally {
        await connection.close();
      }
      return server;
    } catch {
      await sleep(100);
    }
  }
  await stopServer(server, 'SIGKILL');
  throw new Error(`dev server did not answer on ${address} within 60 s: ${output}`);
}

async function stopServer(server: Server, signal: NodeJS.Signals): Promise<void> {
  if (server.child.exitCode === null && server.child.signalCode === null) process.kill(-server.child.pid!, signal);
  await server.exited;
}

// ---------------------------------------------------------------------------------------------------

interface Recovery {
  what: string;
  /** When the fault was injected. */
  at: number;
  /** Open runs and tool calls that had paid but not yet returned, at that moment. */
  openRuns: number;
  paidNotReturned: number;
  /** The new worker polls / the restarted server answers. */
  readyAt: number;
}

/** The first moments, in a window, at which the runs moved: any of these, and each kind. */
interface Progress {
  first?: number;
  /** A model call or tool call tried again (the server schedules retries: no workflow task needed). */
  firstRetry?: number;
  /** A model call or tool call tried for the first time: only a workflow task schedules one. */
  firstNewCall?: number;
  firstPayment?: number;
  firstCompletion?: number;
}

const failures: string[] = [];
/** What to stop on the way out, on success, failure or Ctrl-C alike: the server runs in its own process group. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
}
const check = (ok: boolean, message: string) => ok || failures.push(message);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'durable-agents-chaos-'));
  const paths = {
    db: join(dir, 'temporal.db'),
    ledger: join(dir, 'ledger.jsonl'),
    invocations: join(dir, 'invocations.jsonl'),
    bundle: join(dir, 'workflow-bundle.js'),
  };
  log(`seed ${seed} (replay with CHAOS_SEED=${seed}); files in ${dir}`);

  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const bundling = bundleWorkflowCode({
    ...workflowBundleOptions(require.resolve('../../workflows')),
    logger: new DefaultLogger('WARN'),
  });
  let server = await startServer(port, paths.db);
  cleanups.push(() => stopServer(server, 'SIGKILL'));
  // The scripted model puts an abort listener per delayed reply on one signal: 30 runs pass Node's warning at 10.
  EventEmitter.defaultMaxListeners = 2 * RUNS;
  const model = await startScriptedModel((request) => runs.answer(request) ?? reply.error(400, 'not a chaos run'));
  cleanups.push(() => model.close());
  const bundle = await bundling;
  writeFileSync(paths.bundle, bundle.code);
  const connection = await Connection.connect({ address });
  cleanups.push(() => connection.close());
  const client = new Client({ connection });
  log(`dev server on ${address} (db ${paths.db}), scripted model on ${model.baseUrl}`);

  const taskQueue = `chaos-${seed}`;
  const env = {
    TEMPORAL_ADDRESS: address,
    TASK_QUEUE: taskQueue,
    WORKFLOW_BUNDLE: paths.bundle,
    AGENT_MODULES: join(__dirname, 'chaos-agent.ts'),
    AGENT_MODEL: 'scripted-chaos-model',
    OPENAI_BASE_URL: model.baseUrl,
    MODEL_HEARTBEAT_SECONDS: '2',
    MODEL_TIMEOUT_SECONDS: '10',
    HELPDESK_LEDGER: join(dir, 'helpdesk-ledger.jsonl'),
    CHAOS_LEDGER: paths.ledger,
    CHAOS_INVOCATIONS: paths.invocations,
  };

  // The worker. It rides out the server's restart (its calls retry until the server answers again), so
  // one that exits without being killed by us is a failure; it is replaced so the runs can still end.
  const workers: WorkerProcess[] = [];
  const killed = new Set<WorkerProcess>();
  const unplannedExits: string[] = [];
  let stopping = false;
  cleanups.push(async () => {
    stopping = true;
    for (const worker of workers)
      if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await Promise.all(workers.map((worker) => worker.exited));
  });
  async function startWorker(): Promise<WorkerProcess> {
    const worker = spawnWorker(env);
    workers.push(worker);
    void worker.exited.then(async (how) => {
      if (killed.has(worker) || stopping) return;
      const line = `worker pid ${worker.child.pid} exited on its own (${how}) at ${since(Date.now())}`;
      unplannedExits.push(`${line}\n${worker.output().trim().split('\n').slice(-5).join('\n')}`);
      log(`${line}; starting another`);
      if (workers.at(-1) === worker) await startWorker().catch((error: Error) => log(error.message));
    });
    await waitUntilPolling(worker);
    log(`worker pid ${worker.child.pid} polling`);
    return worker;
  }
  await startWorker();

  // The runs.
  await Promise.all(plans.map((run) => runs.start(client, taskQueue, run)));
  log(`${RUNS} runs started`);
  const stopTracking = runs.trackCompletions(client, taskQueue, 300);
  const openRuns = () => runs.openRuns().length;

  /** When the runs first moved after `after` (and before `before`): model requests, tool executions, payments, completions. */
  function progressBetween(after: number, before = Infinity): Progress {
    const first = (times: number[]) => times.filter((at) => at > after && at < before).sort((a, b) => a - b)[0];
    const invocations = readJsonLines<Invocation>(paths.invocations);
    const calls = [
      ...runs.modelCalls,
      ...invocations
        .filter((line) => line.event === 'started')
        .map((line) => ({ at: line.at, retry: line.attempt > 1 })),
    ];
    const progress: Progress = {
      firstRetry: first(calls.filter((call) => call.retry).map((call) => call.at)),
      firstNewCall: first(calls.filter((call) => !call.retry).map((call) => call.at)),
      firstPayment: first(invocations.filter((line) => line.event === 'paid').map((line) => line.at)),
      firstCompletion: first(plans.flatMap((run) => (run.closedAt ? [run.closedAt] : []))),
    };
    progress.first = first(Object.values(progress).filter((at): at is number => at !== undefined));
    return progress;
  }

  /** Waits until the runs move on after `after` (a call only a workflow task schedules); returns when they did. */
  async function waitForRunsToMove(after: number, what: string): Promise<number> {
    const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
    for (;;) {
      const { firstNewCall, firstCompletion } = progressBetween(after);
      const movedAt = firstNewCall ?? firstCompletion;
      if (movedAt) return movedAt;
      if (!openRuns()) throw new Error(`every run completed before the runs moved on after ${what}`);
      if (Date.now() > deadline)
        throw new Error(`the runs did not move on within ${RECOVERY_TIMEOUT_MS / 1000} s of ${what}`);
      await sleep(50);
    }
  }

  /** Waits until `worker` makes a payment (or finds one made) after `after`: it is in the middle of tool calls. */
  async function waitForPayment(worker: WorkerProcess, after: number): Promise<void> {
    const deadline = Date.now() + RECOVERY_TIMEOUT_MS;
    const paidHere = (line: Invocation) =>
      line.pid === worker.child.pid && line.at > after && (line.event === 'paid' || line.event === 'deduplicated');
    while (!readJsonLines<Invocation>(paths.invocations).some(paidHere)) {
      if (!openRuns()) throw new Error('every run completed before the chaos was over: the runs are too short');
      if (Date.now() > deadline)
        throw new Error(`worker pid ${worker.child.pid} made no payment in ${RECOVERY_TIMEOUT_MS / 1000} s`);
      await sleep(50);
    }
  }

  /** Tool calls that made their payment (or found it made) but had not returned, by worker pid. */
  function paidNotReturned(pid: number | undefined): number {
    const open = new Set<string>();
    for (const line of readJsonLines<Invocation>(paths.invocations).filter((entry) => entry.pid === pid)) {
      const id = `${line.key}#${line.attempt}`;
      if (line.event === 'paid' || line.event === 'deduplicated') open.add(id);
      if (line.event === 'returned') open.delete(id);
    }
    return open.size;
  }

  // The chaos: three kills and one server restart, in a seeded order, each at a random moment after the
  // runs have visibly moved again since the previous one.
  const events = [...Array<string>(WORKER_KILLS).fill('kill'), 'server'];
  const drawnDowntimeMs = between(500, 3000);
  const serverDowntimeMs = Number(process.env.CHAOS_SERVER_DOWNTIME_MS ?? drawnDowntimeMs);
  for (let i = events.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [events[i], events[j]] = [events[j], events[i]];
  }
  log(`schedule: ${events.join(', ')}`);
  const recoveries: Recovery[] = [];
  let kills = 0;
  // Each fault waits for the runs to move on after the previous one, so each recovery is seen whole.
  let movedAt = t0;
  for (const event of events) {
    // Strike while the worker is busy: once it has made a payment, at a random moment within a tool call's length.
    await waitForPayment(workers.at(-1)!, movedAt);
    await sleep(between(0, 1000));
    const open = openRuns();
    if (!open) throw new Error('every run completed before the chaos was over: the runs are too short');
    const worker = workers.at(-1)!;
    if (event === 'kill') {
      kills += 1;
      const paid = paidNotReturned(worker.child.pid);
      const at = Date.now();
      killed.add(worker);
      worker.child.kill('SIGKILL');
      await worker.exited;
      log(
        `kill ${kills}: SIGKILLed worker pid ${worker.child.pid} (${open} runs open, ${paid} tool calls paid but not returned)`,
      );
      await startWorker();
      recoveries.push({ what: `worker kill ${kills}`, at, openRuns: open, paidNotReturned: paid, readyAt: Date.now() });
    } else {
      const paid = paidNotReturned(worker.child.pid);
      const at = Date.now();
      await stopServer(server, 'SIGKILL');
      log(
        `server: SIGKILLed the dev server (${open} runs open, ${paid} tool calls paid but not returned); ` +
          `starting it again in ${serverDowntimeMs} ms`,
      );
      await sleep(serverDowntimeMs);
      server = await startServer(port, paths.db);
      log('server: answering again on the same port and db file');
      recoveries.push({ what: 'server restart', at, openRuns: open, paidNotReturned: paid, readyAt: Date.now() });
    }
    const recovery = recoveries.at(-1)!;
    movedAt = await waitForRunsToMove(recovery.readyAt, recovery.what);
  }

  // Every run to its end.
  const deadline = t0 + DEADLINE_MS;
  while (openRuns() && Date.now() < deadline) await sleep(200);
  await stopTracking();
  // Each fault's recovery, up to the next fault.
  const progress = recoveries.map((recovery, i) => progressBetween(recovery.readyAt, recoveries[i + 1]?.at));

  // The verdict.
  const invocations = readJsonLines<Invocation>(paths.invocations);
  const verdict = await judgeLedger(plans, paths.ledger, async (run) => {
    const pending = await client.workflow
      .getHandle(run.workflowId)
      .describe()
      .then(
        (description) => description.raw.pendingActivities?.map((activity) => activity.activityType?.name),
        (error: Error) => error.message,
      );
    return `${run.workflowId} did not finish within ${DEADLINE_MS / 1000} s (pending: ${pending})`;
  });
  failures.push(...verdict.failures);
  const started = invocations.filter((line) => line.event === 'started');
  const deduplicated = invocations.filter((line) => line.event === 'deduplicated');
  const retries = started.filter((line) => line.attempt > 1);
  check(kills === WORKER_KILLS, `${kills} kills, planned ${WORKER_KILLS}`);
  check(!unplannedExits.length, `${unplannedExits.length} worker(s) exited on their own (see below)`);
  // Executions of a call whose payment an earlier execution had made: what deduplication is for.
  const firstPaid = new Map<string, number>();
  for (const line of invocations)
    if (line.event === 'paid' && !firstPaid.has(line.key)) firstPaid.set(line.key, line.at);
  const afterPayment = started.filter((line) => (firstPaid.get(line.key) ?? Infinity) < line.at);
  check(
    afterPayment.length > 0,
    'no tool call ran again after its payment: no fault hit a call between its payment and its completion',
  );

  // The report.
  const ms = (from: number, to?: number) => (to === undefined ? '—' : `${((to - from) / 1000).toFixed(2)} s`);
  const table =
    'fault|open runs|paid, not returned|fault→ready|ready→progress|→retried call|→new call|→payment|→run completed';
  const rows = recoveries.map((r, i) => [
    r.what,
    String(r.openRuns),
    String(r.paidNotReturned),
    ms(r.at, r.readyAt),
    ...[progress[i].first, progress[i].firstRetry, progress[i].firstNewCall, progress[i].firstPayment].map((at) =>
      ms(r.readyAt, at),
    ),
    ms(r.readyAt, progress[i].firstCompletion),
  ]);
  const widths = table
    .split('|')
    .map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => cell.padStart(widths[column])).join('  ')}`;
  console.log('\nrecovery times: ready = the new worker polls / the restarted server answers; then the first progress');
  console.log('after it (before the next fault): any; a retried model/tool call (scheduled by the server); a new call');
  console.log('(scheduled by a workflow task: the run itself moved on); a payment; a run completed');
  console.log(line(table.split('|')));
  for (const row of rows) console.log(line(row));
  const lastClose = Math.max(...plans.map((run) => run.closedAt ?? 0));
  console.log(
    `\nruns: ${plans.filter((run) => run.status === 'COMPLETED').length}/${RUNS} completed, the last at ${since(lastClose)}`,
  );
  console.log(
    `tool calls: ${verdict.expected} expected, ${started.length} executions (${retries.length} retries, ` +
      `${afterPayment.length} of them after the call had paid), ${verdict.payments} payments written, ` +
      `${deduplicated.length} executions answered from the ledger instead of paying again`,
  );
  console.log(`workers: ${workers.length} processes, ${kills} SIGKILLed, ${unplannedExits.length} exited on their own`);
  for (const exit of unplannedExits) console.log(`  ${exit.replace(/\n/g, '\n    ')}`);

  await cleanUp();

  if (process.env.CHAOS_VERBOSE) {
    for (const worker of workers) console.log(`\nworker pid ${worker.child.pid}:\n${worker.output().trim()}`);
  }
  if (failures.length) {
    console.log(`\nFAILED (seed ${seed}; files kept in ${dir}):`);
    for (const failure of failures) console.log(`  - ${failure}`);
    const last = workers.at(-1)!;
    console.log(`\nlast worker's output:\n${last.output().trim().split('\n').slice(-20).join('\n')}`);
    process.exitCode = 1;
  } else {
    rmSync(dir, { recursive: true, force: true });
    console.log(`\nPASSED in ${((Date.now() - t0) / 1000).toFixed(1)} s (seed ${seed})`);
  }
}

process.once('SIGINT', () => void cleanUp().finally(() => process.exit(130)));
setTimeout(() => {
  console.error(`\nFAILED (seed ${seed}): still running after ${WATCHDOG_MS / 1000} s`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS).unref();
void main()
  .catch((error: Error) => {
    console.error(`\nFAILED (seed ${seed}): ${error.stack ?? error.message}`);
    process.exitCode = 1;
  })
  .then(cleanUp)
  // The native bridge keeps the event loop alive; leave once the verdict is out.
  .finally(() => process.exit());

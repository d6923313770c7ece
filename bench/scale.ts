/**
 * `npm run bench:scale`: how `agentRun` holds up with many runs at once, on one dev server and one
 * worker process (the project's `worker.ts`, regular activities; `--local` for
 * `LOCAL_ACTIVITIES=model,tools`), against the scripted model in its own process.
 *
 * `--mode concurrent` (default): `--runs N` (100) runs of the bench's work unit (6 model calls, 5 tool
 * calls) started all at once, the model taking `--latency-ms` (1000) to answer every call, so no run
 * can take less than 6 calls × 1 s = 6 s. Reports runs started per second (the client's `start`
 * calls), p50/p95/max run time against that floor (and against the issue's framing, 5 steps × 1 s),
 * total wall time, worker CPU and RSS, and the bound the worker's activity slots put on it.
 *
 * `--mode idle`: `--sessions N` (2000) session runs that answer their first message and wait for the
 * next; once all are idle (`AgentStatus="awaiting_input"`), the worker's and the server's RSS, then
 * a next message (`chat` update) to `--sample` (20) of them to check they resume, then `end` to all.
 *
 * Both print a table and write bench/results/scale-<mode>-<timestamp>.json. Other flags: --warmup N
 * (concurrent: runs before the measured ones, 2), --start-concurrency N (idle: start and end calls in
 * flight, 100), --idle-seconds N (idle: the window the worker's idle CPU is measured over, 5),
 * --eager / --no-eager, --worker-env KEY=VALUE (repeatable).
 */
import { workerSlots } from '../runtime/create-worker';
import { loadWorkerConfig } from '../src/config';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { getHeapStatistics } from 'node:v8';
import type { Client } from '@temporalio/client';
import { chatUpdate, endSignal, WorkflowType } from '../src/contract';
import type { agentRun } from '../workflows';
import { commonOptions, eagerChoice, wholeNumber } from './support/args';
import { bundleToFile, type BundleFile } from './support/bundle';
import { sampleHistory, spreadSample } from './support/history-sample';
import { startModelProcess, type ModelProcess } from './support/model-process';
import { runPool } from './support/pool';
import { cpuMeter, memoryBytes } from './support/proc';
import { writeResults } from './support/results';
import { resultWithin, RUN_DEADLINE_MS } from './support/run-deadline';
import { startBenchServer, type BenchServer } from './support/server';
import { spread } from './support/stats';
import { fixed, formatTable, mb, type Cell } from './support/table';
import {
  checkModelWork,
  checkRunResult,
  MODEL_CALLS,
  SESSION_REPLY,
  SESSION_TAG,
  sessionInput,
  STEPS,
  taskInput,
} from './support/work-unit';
import { LOCAL_MODEL_AND_TOOLS, parseEnvPairs, startAgentWorker, type WorkerProcess } from './support/workers';

/** The issue's framing of the concurrent figure: runs of 5 steps at 1 s each, a 5 s floor. */
const ISSUE_STEPS = 5;

function settingsFromArgs() {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' },
      runs: { type: 'string' },
      sessions: { type: 'string' },
      'latency-ms': { type: 'string' },
      warmup: { type: 'string' },
      sample: { type: 'string' },
      'idle-seconds': { type: 'string' },
      'start-concurrency': { type: 'string' },
      local: { type: 'boolean' },
      ...commonOptions,
    },
    strict: true,
  });
  const mode = values.mode ?? 'concurrent';
  if (mode !== 'concurrent' && mode !== 'idle') throw new Error(`--mode is concurrent or idle, got ${mode}`);
  return {
    mode: mode as 'concurrent' | 'idle',
    runs: wholeNumber('--runs', values.runs, 100, 1),
    sessions: wholeNumber('--sessions', values.sessions, 2000, 1),
    latencyMs: wholeNumber('--latency-ms', values['latency-ms'], mode === 'concurrent' ? 1000 : 0),
    warmup: wholeNumber('--warmup', values.warmup, 2),
    sample: wholeNumber('--sample', values.sample, 20, 1),
    idleSeconds: wholeNumber('--idle-seconds', values['idle-seconds'], 5),
    startConcurrency: wholeNumber('--start-concurrency', values['start-concurrency'], 100, 1),
    local: Boolean(values.local),
    eager: eagerChoice(values),
    workerEnv: parseEnvPairs(values['worker-env']),
  };
}

type Settings = ReturnType<typeof settingsFromArgs>;

interface Setup {
  settings: Settings;
  model: ModelProcess;
  server: BenchServer;
  worker: WorkerProcess;
  client: Client;
  /** The worker's RSS once it polled, before any run. */
  baselineRssBytes: number;
}

const seconds = (ms: number) => ms / 1000;
const startRun = (client: Client, taskQueue: string, workflowId: string, input = taskInput) =>
  client.workflow.start<typeof agentRun>(WorkflowType.agentRun, { taskQueue, workflowId, args: [input] });

/**
 * The worker's workflow cache: `WORKFLOW_CACHE_SIZE` when the bench passes it, else the SDK's default
 * for a worker with this machine's default heap (reuseV8Context).
 */
function workflowCache(workerEnv: Record<string, string>): { runs: number; heapLimitMb: number; configured: boolean } {
  const heapLimitMb = getHeapStatistics().heap_size_limit / 1024 / 1024;
  const configured = workerEnv.WORKFLOW_CACHE_SIZE;
  if (configured !== undefined) return { runs: Number(configured), heapLimitMb, configured: true };
  return {
    runs: Math.max(Math.floor(Math.max(heapLimitMb - 200, 0) * (600 / 1024)), 10),
    heapLimitMb,
    configured: false,
  };
}

/** Waits until `query` counts `expected` runs (visibility lags the runs), printing progress; returns the ms waited. */
async function waitForCount(client: Client, query: string, expected: number, what: string, timeoutMs: number) {
  const t0 = performance.now();
  let lastPrint = t0;
  for (;;) {
    const { count } = await client.workflow.count(query);
    if (count === expected) return performance.now() - t0;
    const now = performance.now();
    if (now - t0 > timeoutMs)
      throw new Error(`${what}: ${count}, not ${expected}, after ${Math.round(seconds(now - t0))} s`);
    if (now - lastPrint > 10_000) {
      console.log(`  ${what}: ${count} (waiting for ${expected}) after ${Math.round(seconds(now - t0))} s`);
      lastPrint = now;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function concurrentMode({ settings, model, server, worker, client, baselineRssBytes }: Setup) {
  const n = settings.runs;
  const prefix = `scale-${worker.taskQueue.slice(-8)}`;
  if (settings.warmup) {
    console.log(`warm-up: ${settings.warmup} runs`);
    await Promise.all(
      Array.from({ length: settings.warmup }, async (_, i) => {
        const handle = await startRun(client, worker.taskQueue, `${prefix}-warmup-${i}`);
        checkRunResult(await resultWithin(handle), handle.workflowId);
      }),
    );
  }
  const before = await model.stats();
  const meters = { worker: cpuMeter(worker.pid), server: cpuMeter(server.pid) };
  // Runs at once queue for the worker's slots: 1,000 of them took 131 s at p50 here, the worst seen.
  const deadlineMs = RUN_DEADLINE_MS + n * 200;
  console.log(`starting ${n} runs at once`);
  const t0 = performance.now();
  const startedMs: number[] = [];
  const runMs: number[] = [];
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const handle = await startRun(client, worker.taskQueue, `${prefix}-${i}`);
      startedMs.push(performance.now() - t0);
      checkRunResult(await resultWithin(handle, deadlineMs), handle.workflowId);
      runMs.push(performance.now() - t0);
    }),
  );
  const wallMs = performance.now() - t0;
  const used = { worker: meters.worker.stop(), server: meters.server.stop() };
  const memory = { worker: memoryBytes(worker.pid), server: memoryBytes(server.pid) };
  const extra = checkModelWork(before, await model.stats(), n, 'scale concurrent');
  // The server's own clock: close − start of each measured run, from visibility.
  const query = `TaskQueue="${worker.taskQueue}" AND ExecutionStatus="Completed" AND WorkflowId STARTS_WITH "${prefix}-" AND NOT WorkflowId STARTS_WITH "${prefix}-warmup"`;
  await waitForCount(client, query, n, 'runs listed as completed', 60_000);
  const serverMs: number[] = [];
  for await (const info of client.workflow.list({ query })) {
    if (info.closeTime) serverMs.push(info.closeTime.getTime() - info.startTime.getTime());
  }

  // Where the time went, from a sample of the runs' histories (the server's event times).
  const history = await sampleHistory(
    client,
    spreadSample(
      Array.from({ length: n }, (_, i) => `${prefix}-${i}`),
      5,
    ),
  );
  const floorMs = MODEL_CALLS * settings.latencyMs;
  const issueFloorMs = ISSUE_STEPS * settings.latencyMs;
  const run = spread(runMs);
  const onServer = spread(serverMs);
  const lastStartMs = Math.max(...startedMs);
  // What the worker runs at once, read from its env as the worker reads it.
  const {
    modelCalls: slots,
    workflowTasks: workflowTaskSlots,
    workflowThreads,
  } = workerSlots(
    loadWorkerConfig({ ...(settings.local && { LOCAL_ACTIVITIES: LOCAL_MODEL_AND_TOOLS }), ...settings.workerEnv }),
  );
  // Every model call holds a slot for the whole latency: n × 6 calls through `slots` at a time.
  const slotBoundMs = Math.ceil(n / slots) * floorMs;
  const figures = {
    runs: n,
    latencyMs: settings.latencyMs,
    local: settings.local,
    floor: { modelCalls: MODEL_CALLS, latencyMs: settings.latencyMs, ms: floorMs },
    issueFloor: { steps: ISSUE_STEPS, latencyMs: settings.latencyMs, ms: issueFloorMs },
    startsPerSecond: n / seconds(lastStartMs),
    lastStartMs,
    runMs: run,
    serverRunMs: onServer,
    wallMs,
    p50OverFloor: run.p50 / floorMs,
    maxOverFloor: run.max / floorMs,
    p50OverIssueFloor: run.p50 / issueFloorMs,
    maxOverIssueFloor: run.max / issueFloorMs,
    workerCpuSeconds: used.worker.own,
    workerChildrenCpuSeconds: used.worker.descendants,
    workerCpuSecondsPerStep: used.worker.own / (n * STEPS),
    workerCpuUtilisation: used.worker.own / seconds(wallMs),
    machineCpuShare: (used.worker.own + used.server.own) / seconds(wallMs) / cpus().length,
    serverCpuSeconds: used.server.own,
    workerBaselineRssBytes: baselineRssBytes,
    workerRssBytes: memory.worker.rss,
    workerPeakRssBytes: memory.worker.peak,
    serverRssBytes: memory.server.rss,
    extraModelRequests: extra,
    history,
    limits: {
      activitySlots: slots,
      workflowTaskSlots,
      workflowThreads,
      workflowCache: workflowCache(settings.workerEnv),
      slotBoundMs,
      note:
        `the worker makes ${slots} ${settings.local ? 'local calls (model and tools)' : 'model calls'} at once, ${workflowTaskSlots} workflow-task ` +
        `slots (WORKFLOW_CONCURRENCY) and ${workflowThreads} workflow thread(s) (WORKFLOW_THREADS); each model call ` +
        `holds an activity slot for its latency${settings.local ? " (and its run's workflow-task slot)" : ''}, so ` +
        `${n} runs need at least ceil(${n}/${slots}) × ${MODEL_CALLS} × ${seconds(settings.latencyMs)} s = ${seconds(slotBoundMs)} s`,
    },
  };
  const x = (value: number) => `${value.toFixed(2)}x`;
  const rows: Cell[][] = [
    ['runs started at once', n],
    ['runs started per second (client start calls)', fixed(figures.startsPerSecond, 1)],
    ['last start call returned after', `${fixed(seconds(lastStartMs), 2)} s`],
    [`floor: ${MODEL_CALLS} model calls × ${settings.latencyMs} ms`, `${fixed(seconds(floorMs), 1)} s`],
    [
      'run time p50 / p95 / max (client: start call to result)',
      `${[run.p50, run.p95, run.max].map((v) => fixed(seconds(v), 2)).join(' / ')} s`,
    ],
    [
      'run time p50 / max (server: close − start)',
      `${[onServer.p50, onServer.max].map((v) => fixed(seconds(v), 2)).join(' / ')} s`,
    ],
    ['p50 / floor, max / floor', `${x(figures.p50OverFloor)}, ${x(figures.maxOverFloor)}`],
    [
      `issue framing: ${ISSUE_STEPS} steps × ${settings.latencyMs} ms = ${seconds(issueFloorMs)} s floor; p50 / it, max / it`,
      `${x(figures.p50OverIssueFloor)}, ${x(figures.maxOverIssueFloor)}`,
    ],
    ['total wall time', `${fixed(seconds(wallMs), 2)} s`],
    [
      'worker CPU (utilisation of one core)',
      `${fixed(used.worker.own, 2)} s (${Math.round(figures.workerCpuUtilisation * 100)}%)`,
    ],
    ['worker CPU per step', `${fixed(figures.workerCpuSecondsPerStep * 1000, 2)} ms`],
    ['server CPU', `${fixed(used.server.own, 2)} s`],
    ['worker RSS before any run', `${mb(baselineRssBytes)} MB`],
    ['worker RSS at the end / peak', `${mb(memory.worker.rss)} / ${mb(memory.worker.peak)} MB`],
    ['server RSS', `${mb(memory.server.rss)} MB`],
    [
      'mean schedule-to-start of workflow tasks / activities (5 runs)',
      `${fixed(history.workflowTaskScheduleToStartMs, 1)} / ${fixed(history.activityScheduleToStartMs, 1)} ms`,
    ],
    [
      'history events per run (workflow tasks, activities, markers)',
      `${history.events} (${history.eventTypes.WORKFLOW_TASK_STARTED ?? 0}, ${history.activitiesScheduled}, ${history.markers})`,
    ],
  ];
  const machineShare = figures.machineCpuShare;
  const verdict = (ratio: number) => (ratio <= 1.5 ? 'met' : 'NOT met');
  const lines = [
    `limits: ${figures.limits.note}; worker + server CPU ${fixed(used.worker.own + used.server.own, 1)} s over ` +
      `${fixed(seconds(wallMs), 1)} s on ${cpus().length} cores = ${Math.round(machineShare * 100)}% of the machine` +
      (machineShare > 0.7 ? ' (CPU-bound)' : ''),
    `target (100 runs × 5 steps at 1 s latency within 1.5x of the floor)` +
      (n === 100 && settings.latencyMs === 1000 ? '' : ' (measured at another size)') +
      `: against this work unit's ${seconds(floorMs)} s floor p50 ${x(figures.p50OverFloor)}, max ${x(figures.maxOverFloor)} ` +
      `(${verdict(figures.p50OverFloor)} by p50, ${verdict(figures.maxOverFloor)} by max); against the issue's ` +
      `${seconds(issueFloorMs)} s p50 ${x(figures.p50OverIssueFloor)}, max ${x(figures.maxOverIssueFloor)} ` +
      `(${verdict(figures.p50OverIssueFloor)} by p50, ${verdict(figures.maxOverIssueFloor)} by max)`,
  ];
  return { figures, rows, lines };
}

async function idleMode({ settings, model, server, worker, client, baselineRssBytes }: Setup) {
  const n = settings.sessions;
  const prefix = `idle-${worker.taskQueue.slice(-8)}`;
  const ids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
  const before = await model.stats();
  const workerCpu = cpuMeter(worker.pid);
  console.log(`starting ${n} sessions, ${settings.startConcurrency} start calls in flight`);
  const t0 = performance.now();
  const starts = await runPool(n, settings.startConcurrency, async (i) => {
    await startRun(client, worker.taskQueue, ids[i], sessionInput);
  });
  const idleQuery = `TaskQueue="${worker.taskQueue}" AND AgentStatus="awaiting_input" AND ExecutionStatus="Running"`;
  await waitForCount(client, idleQuery, n, 'sessions awaiting input', 120_000 + n * 200);
  const allIdleMs = performance.now() - t0;
  const startCpu = workerCpu.stop();
  const idle = { worker: memoryBytes(worker.pid), server: memoryBytes(server.pid) };
  const after = await model.stats();
  const sessionCalls = after.session - before.session;
  if (sessionCalls < n) throw new Error(`the model answered ${sessionCalls} session messages for ${n} sessions`);
  console.log(`all ${n} idle after ${fixed(seconds(allIdleMs), 1)} s; worker RSS ${mb(idle.worker.rss)} MB`);
  // What idle sessions cost the worker while nothing happens.
  const idleCpu = cpuMeter(worker.pid);
  await new Promise((resolve) => setTimeout(resolve, settings.idleSeconds * 1000));
  const idleCpuSeconds = idleCpu.stop().own;

  // Resumable: a next message to a sample spread over the start order (the earliest are the likeliest evicted).
  const sample = spreadSample(ids, settings.sample);
  const resumeT0 = performance.now();
  const resumeMs = await Promise.all(
    sample.map(async (id) => {
      const t = performance.now();
      const answer = await client.workflow
        .getHandle<typeof agentRun>(id)
        .executeUpdate(chatUpdate, { args: [{ text: `${SESSION_TAG} next` }] });
      if (answer !== SESSION_REPLY) throw new Error(`session ${id} answered ${JSON.stringify(answer)}`);
      return performance.now() - t;
    }),
  );
  const resumeWallMs = performance.now() - resumeT0;
  const afterResume = memoryBytes(worker.pid);

  // End them all, so the server is left clean.
  const endT0 = performance.now();
  await runPool(n, settings.startConcurrency, (i) => client.workflow.getHandle(ids[i]).signal(endSignal));
  await waitForCount(
    client,
    `TaskQueue="${worker.taskQueue}" AND ExecutionStatus="Running"`,
    0,
    'sessions still running after end',
    120_000 + n * 100,
  );
  const endMs = performance.now() - endT0;

  const resume = spread(resumeMs);
  const cache = workflowCache(settings.workerEnv);
  const figures = {
    sessions: n,
    local: settings.local,
    startsPerSecond: n / seconds(starts.wallMs),
    startCallsWallMs: starts.wallMs,
    allIdleMs,
    workerCpuSecondsToIdle: startCpu.own,
    workerRssBytes: idle.worker.rss,
    workerPeakRssBytes: idle.worker.peak,
    workerBaselineRssBytes: baselineRssBytes,
    workerRssPerSessionBytes: (idle.worker.rss - baselineRssBytes) / n,
    idleWindowSeconds: settings.idleSeconds,
    workerIdleCpuSeconds: idleCpuSeconds,
    serverRssBytes: idle.server.rss,
    serverPeakRssBytes: idle.server.peak,
    resumable: { sampled: sample.length, resumed: resumeMs.length, ms: resume, wallMs: resumeWallMs },
    workerRssAfterResumeBytes: afterResume.rss,
    endAllMs: endMs,
    workflowCache: cache,
  };
  const rows: Cell[][] = [
    ['sessions started', n],
    ['runs started per second (client start calls)', fixed(figures.startsPerSecond, 1)],
    ['all awaiting input after', `${fixed(seconds(allIdleMs), 1)} s`],
    ['worker CPU until all idle', `${fixed(startCpu.own, 1)} s`],
    ['worker RSS with all idle / peak', `${mb(idle.worker.rss)} / ${mb(idle.worker.peak)} MB`],
    ['worker RSS before any run', `${mb(baselineRssBytes)} MB`],
    ['worker RSS per idle session, above that', `${fixed(figures.workerRssPerSessionBytes / 1024, 1)} KiB`],
    [`worker CPU over ${settings.idleSeconds} s with all idle`, `${fixed(idleCpuSeconds, 2)} s`],
    ['server RSS with all idle / peak', `${mb(idle.server.rss)} / ${mb(idle.server.peak)} MB`],
    [
      `resumable: next message to ${sample.length} (spread over the start order)`,
      `${resumeMs.length} of ${sample.length} answered`,
    ],
    [
      'resume time p50 / max, all of them',
      `${fixed(resume.p50, 0)} / ${fixed(resume.max, 0)} ms, ${fixed(resumeWallMs, 0)} ms`,
    ],
    ['ending all (end signal, until none runs)', `${fixed(seconds(endMs), 1)} s`],
  ];
  const lines = [
    `the worker's workflow cache holds ${cache.configured ? `${cache.runs} runs (WORKFLOW_CACHE_SIZE)` : `about ${cache.runs} runs (the SDK's default; heap limit ${Math.round(cache.heapLimitMb)} MB)`}; sessions beyond it wait evicted, replayed when a message comes`,
    `target (10,000 idle sessions, worker RSS <= 1 GB): ${mb(idle.worker.rss)} MB with ${n} sessions` +
      (n >= 10_000 ? ` — ${idle.worker.rss <= 1e9 ? 'met' : 'NOT met'}` : ' (other size)'),
  ];
  return { figures, rows, lines };
}

async function main(): Promise<void> {
  const settings = settingsFromArgs();
  const model = await startModelProcess(settings.latencyMs);
  let server: BenchServer | undefined;
  let worker: WorkerProcess | undefined;
  let bundle: BundleFile | undefined;
  try {
    server = await startBenchServer(settings.eager);
    bundle = await bundleToFile(require.resolve('../workflows'), 'agent', true);
    worker = await startAgentWorker({
      address: server.address,
      bundlePath: bundle.path,
      modelBaseUrl: model.baseUrl,
      local: settings.local,
      extraEnv: settings.workerEnv,
    });
    console.log(
      `scale ${settings.mode}: dev server ${server.address} (eager dispatch ${settings.eager ? 'on' : 'off'}), ` +
        `worker pid ${worker.pid} (${settings.local ? 'LOCAL_ACTIVITIES=model,tools' : 'regular activities'}), ` +
        `model latency ${settings.latencyMs} ms`,
    );
    const baselineRssBytes = memoryBytes(worker.pid).rss;
    const setup: Setup = { settings, model, server, worker, client: server.client, baselineRssBytes };
    const { figures, rows, lines } = await Promise.race([
      settings.mode === 'concurrent' ? concurrentMode(setup) : idleMode(setup),
      server.died,
    ]);
    const exit = await worker.stop();
    worker = undefined;
    console.log(`\n${formatTable(['figure', 'value'], rows)}\n\n${lines.join('\n')}`);
    if (exit.forced) console.log('warning: the worker did not exit within 15 s of SIGTERM and was killed');
    const file = writeResults(`scale-${settings.mode}`, {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
      settings,
      figures,
      workerExit: exit,
    });
    console.log(`results: ${file}`);
  } finally {
    await worker?.stop();
    await server?.stop();
    await model.stop();
    bundle?.remove();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

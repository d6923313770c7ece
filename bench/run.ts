/**
 * `npm run bench`: what durability costs, row by row in one invocation, against one scripted model
 * (its own process) and one Temporal dev server. Every row does the same work unit
 * (bench/support/work-unit.ts: 6 model calls and 5 tool calls of the `bench` agent, bench/agent.ts),
 * RUNS times after WARMUP unmeasured runs, CONCURRENCY at a time:
 *
 * - bare: the loop in this process over the `openai` client, no durability;
 * - floor: a workflow running 12 no-op activities in sequence (as many, of the same kinds, as an
 *   `agentRun` of the work unit: 1 local, 11 regular) on a worker configured like the agent worker:
 *   the engine's own cost;
 * - agent: `agentRun` on the project's worker (`worker.ts`, its own process), regular activities;
 * - agent-local: the same with `LOCAL_ACTIVITIES=model,tools` (the local-activity fast path);
 * - langgraph: LangGraph.js `createReactAgent` with `SqliteSaver` (bench/peers/langgraph, installed
 *   on demand), its own process.
 *
 * Each row reports runs/s, p50/p95 per run, overhead per step over bare, worker and server CPU per
 * step (from /proc, over the measured runs), worker RSS, and history events and bytes per step; the
 * figures go to bench/results/bench-<timestamp>.json. The machine is noisy: compare rows of one
 * invocation, not invocations.
 *
 * Flags (env twins): --runs N (BENCH_RUNS, 60), --concurrency N (BENCH_CONCURRENCY, 10),
 * --warmup N (BENCH_WARMUP, 10), --rows bare,floor,agent,agent-local,langgraph (BENCH_ROWS, all),
 * --skip-peers (BENCH_PEERS=0), --eager / --no-eager (BENCH_EAGER=0: the dev server's eager
 * activity dispatch, on by default), --one-queue (agentRun's model and tool calls on the runs' task
 * queue instead of their own), --worker-env KEY=VALUE (repeatable: more env for both workers).
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import OpenAI from 'openai';
import { WorkflowType } from '../src/contract';
import { pluginApi } from '../src/plugin-api';
import { toolParameters } from '../src/spec';
import type { ChatMessage } from '../src/types';
import type { agentRun } from '../workflows';
import benchAgents from './agent';
import type { floorRun } from './floor/workflows';
import { ensurePeer } from './peers/ensure';
import { commonOptions, eagerChoice, wholeNumber } from './support/args';
import type { BundleFile } from './support/bundle';
import { sampleHistory, spreadSample, type HistorySample } from './support/history-sample';
import { startModelProcess, type ModelProcess } from './support/model-process';
import { runPool, type PoolResult } from './support/pool';
import { cpuMeter, memoryBytes } from './support/proc';
import { writeResults } from './support/results';
import { startBenchServer, type BenchServer } from './support/server';
import { spread } from './support/stats';
import { benchTextTable } from './support/bench-table';
import { fixed } from './support/table';
import {
  AGENT_RUN_ACTIVITIES,
  AGENT_RUN_LOCAL_ACTIVITIES,
  checkModelWork,
  checkRunResult,
  MODEL_CALLS,
  STEPS,
  TASK_MESSAGE,
  taskInput,
  TOOL_CALLS,
} from './support/work-unit';
import { parseEnvPairs, startAgentWorker, startFloorWorker, type WorkerProcess } from './support/workers';

const ROWS = ['bare', 'floor', 'agent', 'agent-local', 'langgraph'] as const;
type RowName = (typeof ROWS)[number];

const LABELS: Record<RowName, string> = {
  bare: 'bare loop (in-process, not durable)',
  floor: 'Temporal floor (12 no-op activities, 1 local)',
  agent: 'agentRun (regular activities)',
  'agent-local': 'agentRun (local activities: fast path)',
  langgraph: 'LangGraph.js createReactAgent + SqliteSaver',
};

/** Payload of each floor activity, about the size of a small model or tool call's. */
const FLOOR_PAYLOAD_BYTES = 200;

function settingsFromArgs() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      rows: { type: 'string' },
      'skip-peers': { type: 'boolean' },
      'one-queue': { type: 'boolean' },
      ...commonOptions,
    },
    strict: true,
  });
  const rows = (values.rows ?? process.env.BENCH_ROWS ?? ROWS.join(','))
    .split(',')
    .map((row) => row.trim())
    .filter(Boolean);
  const unknown = rows.filter((row) => !ROWS.includes(row as RowName));
  if (unknown.length) throw new Error(`unknown row ${unknown.join(', ')} (rows: ${ROWS.join(', ')})`);
  const skipPeers = Boolean(values['skip-peers']) || process.env.BENCH_PEERS === '0';
  return {
    runs: wholeNumber('--runs', values.runs ?? process.env.BENCH_RUNS, 60, 1),
    concurrency: wholeNumber('--concurrency', values.concurrency ?? process.env.BENCH_CONCURRENCY, 10, 1),
    warmup: wholeNumber('--warmup', values.warmup ?? process.env.BENCH_WARMUP, 10),
    rows: ROWS.filter((row) => rows.includes(row) && !(row === 'langgraph' && skipPeers)),
    skipPeers,
    oneQueue: Boolean(values['one-queue']),
    eager: eagerChoice(values),
    workerEnv: parseEnvPairs(values['worker-env']),
  };
}

type Settings = ReturnType<typeof settingsFromArgs>;

/** One row's figures (times in ms, CPU in seconds, memory in bytes); per step = per run / 6. */
interface Row {
  row: RowName;
  label: string;
  note?: string;
  runs: number;
  concurrency: number;
  warmup: number;
  wallMs: number;
  runsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
  /** (p50 of this row − p50 of bare) / 6 steps. */
  overheadPerStepMs?: number;
  /** Whose CPU `workerCpuSeconds` is. */
  workerCpuOf: string;
  workerCpuSeconds: number;
  workerCpuSecondsPerStep: number;
  /** CPU of the worker's child processes over the window (should be ~0: the worker is one process). */
  workerChildrenCpuSeconds?: number;
  serverCpuSecondsPerStep?: number;
  /** The bench process (the Temporal client) and the scripted model, per step, for the record. */
  clientCpuSecondsPerStep?: number;
  modelCpuSecondsPerStep?: number;
  workerRssBytes: number;
  workerPeakRssBytes?: number;
  history?: HistorySample & { eventsPerStep: number; bytesPerStep: number };
  /** Model requests beyond the work unit's (retried calls). */
  extraModelRequests?: number;
  workerExit?: { code: number | null; signal: string | null; forced: boolean; ms: number };
  versions?: Record<string, string>;
  latenciesMs: number[];
}

interface Context {
  settings: Settings;
  model: ModelProcess;
  server?: BenchServer;
  bundles: Partial<Record<'agent' | 'floor', BundleFile>>;
}

function figures(settings: Settings, { latenciesMs, wallMs }: PoolResult) {
  const { p50, p95, max } = spread(latenciesMs);
  return { wallMs, runsPerSecond: (settings.runs / wallMs) * 1000, p50Ms: p50, p95Ms: p95, maxMs: max, latenciesMs };
}

/** The bare loop: the same requests, tool and answers as a run, in this process. */
async function bareRow({ settings, model }: Context): Promise<Row> {
  const [agent] = benchAgents(pluginApi);
  const tools = agent.tools.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: toolParameters(tool) },
  }));
  const openai = new OpenAI({ baseURL: model.baseUrl, apiKey: 'bench', maxRetries: 0 });
  const signal = new AbortController().signal;
  const run = async (index: number) => {
    const messages: ChatMessage[] = [
      { role: 'system', content: agent.instructions },
      { role: 'user', content: TASK_MESSAGE },
    ];
    for (let step = 1; ; step++) {
      const completion = await openai.chat.completions.create({ model: 'bench', messages, tools });
      const message = completion.choices[0].message;
      const calls = message.tool_calls?.filter((call) => call.type === 'function') ?? [];
      messages.push({ role: 'assistant', content: message.content, ...(calls.length && { tool_calls: calls }) });
      if (!calls.length) {
        if (step !== STEPS || message.content !== 'done') throw new Error(`bare run ${index} ended at step ${step}`);
        return;
      }
      for (const call of calls) {
        const tool = agent.tools.find((candidate) => candidate.name === call.function.name)!;
        const result = await tool.execute(tool.input.parse(JSON.parse(call.function.arguments)), {
          idempotencyKey: `${index}.${step}`,
          signal,
          heartbeat: () => undefined,
          attempt: 1,
          workflowId: `bare-${index}`,
          agent: agent.name,
        });
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(result) });
      }
    }
  };
  await runPool(settings.warmup, settings.concurrency, run);
  const before = await model.stats();
  const cpu = process.cpuUsage();
  const modelCpu = cpuMeter(model.process.pid);
  const pool = await runPool(settings.runs, settings.concurrency, run);
  const used = process.cpuUsage(cpu);
  const modelUsed = modelCpu.stop();
  const extra = checkModelWork(before, await model.stats(), settings.runs, 'bare');
  const steps = settings.runs * STEPS;
  const workerCpuSeconds = (used.user + used.system) / 1e6;
  return {
    row: 'bare',
    label: LABELS.bare,
    runs: settings.runs,
    concurrency: settings.concurrency,
    warmup: settings.warmup,
    ...figures(settings, pool),
    workerCpuOf: 'this process',
    workerCpuSeconds,
    workerCpuSecondsPerStep: workerCpuSeconds / steps,
    modelCpuSecondsPerStep: modelUsed.own / steps,
    workerRssBytes: process.memoryUsage().rss,
    extraModelRequests: extra,
  };
}

/**
 * A Temporal row on `worker` (stopped at the end): `runOne` starts one run, waits for its result and
 * throws unless it did the whole work unit. The worker and the server are measured from /proc over
 * the measured runs only; history from a sample of 5 of them.
 */
async function temporalRow(
  context: Context,
  row: 'floor' | 'agent' | 'agent-local',
  worker: WorkerProcess,
  runOne: (client: Client, taskQueue: string, workflowId: string) => Promise<void>,
): Promise<Row> {
  const { settings, model, server } = context;
  const { client } = server!;
  const ids: string[] = [];
  const prefix = `bench-${row}-${worker.taskQueue.slice(-8)}`;
  let exit: Row['workerExit'];
  try {
    await runPool(settings.warmup, settings.concurrency, (index) =>
      runOne(client, worker.taskQueue, `${prefix}-warmup-${index}`),
    );
    const before = await model.stats();
    const meters = {
      worker: cpuMeter(worker.pid),
      server: cpuMeter(server!.pid),
      model: cpuMeter(model.process.pid),
      client: process.cpuUsage(),
    };
    const pool = await runPool(settings.runs, settings.concurrency, (index) => {
      const id = `${prefix}-${index}`;
      ids.push(id);
      return runOne(client, worker.taskQueue, id);
    });
    const used = {
      worker: meters.worker.stop(),
      server: meters.server.stop(),
      model: meters.model.stop(),
      client: process.cpuUsage(meters.client),
    };
    const memory = memoryBytes(worker.pid);
    const extra = row === 'floor' ? undefined : checkModelWork(before, await model.stats(), settings.runs, LABELS[row]);
    const history = await sampleHistory(client, spreadSample(ids, 5));
    const steps = settings.runs * STEPS;
    exit = await worker.stop();
    return {
      row,
      label: LABELS[row],
      runs: settings.runs,
      concurrency: settings.concurrency,
      warmup: settings.warmup,
      ...figures(settings, pool),
      workerCpuOf: `worker process ${worker.pid}`,
      workerCpuSeconds: used.worker.own,
      workerCpuSecondsPerStep: used.worker.own / steps,
      workerChildrenCpuSeconds: used.worker.descendants,
      serverCpuSecondsPerStep: used.server.own / steps,
      clientCpuSecondsPerStep: (used.client.user + used.client.system) / 1e6 / steps,
      modelCpuSecondsPerStep: used.model.own / steps,
      workerRssBytes: memory.rss,
      workerPeakRssBytes: memory.peak,
      history: { ...history, eventsPerStep: history.events / STEPS, bytesPerStep: history.bytes / STEPS },
      extraModelRequests: extra,
      workerExit: exit,
    };
  } finally {
    if (!exit) await worker.stop();
  }
}

async function floorRow(context: Context): Promise<Row> {
  const worker = await startFloorWorker({
    address: context.server!.address,
    bundlePath: context.bundles.floor!.path,
    extraEnv: context.settings.workerEnv,
  });
  return temporalRow(context, 'floor', worker, async (client, taskQueue, workflowId) => {
    const handle = await client.workflow.start<typeof floorRun>('floorRun', {
      taskQueue,
      workflowId,
      args: [
        { activities: AGENT_RUN_ACTIVITIES, local: AGENT_RUN_LOCAL_ACTIVITIES, payloadBytes: FLOOR_PAYLOAD_BYTES },
      ],
    });
    const result = await handle.result();
    if (result.activities !== AGENT_RUN_ACTIVITIES)
      throw new Error(`floor run ${workflowId} ran ${result.activities} activities`);
  });
}

async function agentRow(context: Context, local: boolean): Promise<Row> {
  const worker = await startAgentWorker({
    address: context.server!.address,
    bundlePath: context.bundles.agent!.path,
    modelBaseUrl: context.model.baseUrl,
    local,
    oneQueue: context.settings.oneQueue,
    extraEnv: context.settings.workerEnv,
  });
  const row = await temporalRow(
    context,
    local ? 'agent-local' : 'agent',
    worker,
    async (client, taskQueue, workflowId) => {
      const handle = await client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
        taskQueue,
        workflowId,
        args: [taskInput],
      });
      checkRunResult(await handle.result(), workflowId);
    },
  );
  const { activitiesScheduled, markers } = row.history!;
  const allLocal = activitiesScheduled <= 1 && markers >= MODEL_CALLS + TOOL_CALLS;
  row.note = local
    ? `fast path LOCAL_ACTIVITIES=model,tools: ${allLocal ? 'in effect' : 'NOT in effect (the worker ignored it)'}`
    : `regular activities`;
  row.note += ` (one run's history: ${activitiesScheduled} activities scheduled, ${markers} markers)`;
  const floorRegular = AGENT_RUN_ACTIVITIES - AGENT_RUN_LOCAL_ACTIVITIES;
  if (!local && activitiesScheduled !== floorRegular)
    row.note += `; NOTE: the floor runs ${floorRegular} regular activities, this run scheduled ${activitiesScheduled}`;
  return row;
}

/** The peer's one JSON line (bench/peers/langgraph/run.mjs). */
interface PeerReport {
  name: string;
  runs: number;
  concurrency: number;
  wallMs: number;
  latenciesMs: number[];
  cpuSeconds: number;
  rssBytes: number;
  versions: Record<string, string>;
}

async function langgraphRow({ settings, model }: Context): Promise<Row> {
  const script = await ensurePeer('langgraph');
  const before = await model.stats();
  const modelCpu = cpuMeter(model.process.pid);
  const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve, reject) => {
    const child = spawn(process.execPath, [script], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        OPENAI_BASE_URL: model.baseUrl,
        // The scripted model ignores it; the OpenAI client insists on one.
        OPENAI_API_KEY: 'bench',
        BENCH_RUNS: String(settings.runs),
        BENCH_CONCURRENCY: String(settings.concurrency),
        BENCH_WARMUP: String(settings.warmup),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve({ stdout: out, code: exitCode }));
  });
  const modelUsed = modelCpu.stop();
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0) throw new Error(`the langgraph peer exited with ${code}: ${stdout}`);
  const report = JSON.parse(line) as PeerReport;
  if (report.runs !== settings.runs || report.latenciesMs.length !== settings.runs)
    throw new Error(`the langgraph peer ran ${report.latenciesMs.length} of ${settings.runs} runs`);
  const extra = checkModelWork(before, await model.stats(), settings.runs + settings.warmup, LABELS.langgraph);
  const steps = settings.runs * STEPS;
  return {
    row: 'langgraph',
    label: LABELS.langgraph,
    note: `${report.name}; ${Object.entries(report.versions ?? {})
      .map(([name, version]) => `${name} ${version}`)
      .join(', ')}`,
    runs: settings.runs,
    concurrency: report.concurrency,
    warmup: settings.warmup,
    ...figures(settings, { latenciesMs: [...report.latenciesMs].sort((a, b) => a - b), wallMs: report.wallMs }),
    workerCpuOf: 'the peer process (its own report)',
    workerCpuSeconds: report.cpuSeconds,
    workerCpuSecondsPerStep: report.cpuSeconds / steps,
    modelCpuSecondsPerStep: modelUsed.own / steps,
    workerRssBytes: report.rssBytes,
    extraModelRequests: extra,
    versions: report.versions,
  };
}

function printTable(rows: Row[]): void {
  console.log(benchTextTable(rows));
  for (const row of rows) {
    const waits = row.history
      ? `mean schedule-to-start: activities ${fixed(row.history.activityScheduleToStartMs, 1) ?? 'n/a'} ms, ` +
        `workflow tasks ${fixed(row.history.workflowTaskScheduleToStartMs, 1)} ms`
      : undefined;
    const said = [row.note, waits].filter(Boolean).join('; ');
    if (said) console.log(`  ${row.label}: ${said}`);
  }
}

/** The ratios and targets of issue #10 that these rows can answer. */
function comparisons(rows: Row[]) {
  const find = (name: RowName) => rows.find((row) => row.row === name);
  const [floor, agent, local, langgraph] = [find('floor'), find('agent'), find('agent-local'), find('langgraph')];
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b !== 0 ? a / b : undefined);
  const result = {
    agentOverFloorOverheadPerStep: ratio(agent?.overheadPerStepMs, floor?.overheadPerStepMs),
    agentOverFloorP50: ratio(agent?.p50Ms, floor?.p50Ms),
    agentOverFloorWorkerCpuPerStep: ratio(agent?.workerCpuSecondsPerStep, floor?.workerCpuSecondsPerStep),
    agentLocalOverLanggraphOverheadPerStep: ratio(local?.overheadPerStepMs, langgraph?.overheadPerStepMs),
    agentLocalOverAgentOverheadPerStep: ratio(local?.overheadPerStepMs, agent?.overheadPerStepMs),
  };
  const lines: string[] = [];
  const x = (value?: number) => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`);
  if (agent && floor) {
    lines.push(
      `agentRun / floor: overhead per step ${x(result.agentOverFloorOverheadPerStep)}, p50 ${x(result.agentOverFloorP50)}, ` +
        `worker CPU per step ${x(result.agentOverFloorWorkerCpuPerStep)}` +
        ` — target p50 within 1.1x: ${result.agentOverFloorP50! <= 1.1 ? 'met' : 'NOT met'}`,
    );
  }
  if (local && agent)
    lines.push(`agentRun local / regular: overhead per step ${x(result.agentLocalOverAgentOverheadPerStep)}`);
  if (local && langgraph) {
    lines.push(
      `agentRun local / langgraph: overhead per step ${x(result.agentLocalOverLanggraphOverheadPerStep)}` +
        ` — target below 1x at ${local.concurrency} concurrent: ${result.agentLocalOverLanggraphOverheadPerStep! < 1 ? 'met' : 'NOT met'}`,
    );
  }
  return { ratios: result, lines };
}

/** Starts the dev server and bundles the workflows the selected rows need (once for all rows). */
async function startTemporal(context: Context): Promise<void> {
  const { settings } = context;
  context.server = await startBenchServer(settings.eager);
  console.log(
    `dev server ${context.server.address} (pid ${context.server.pid}), eager activity dispatch ${settings.eager ? 'ON' : 'OFF'}`,
  );
  // Loaded here, not at the top: the bundler would weigh on the bare row's RSS.
  const { bundleToFile } = await import('./support/bundle.js');
  if (settings.rows.includes('agent') || settings.rows.includes('agent-local'))
    context.bundles.agent = await bundleToFile(require.resolve('../workflows'), 'agent', true);
  if (settings.rows.includes('floor'))
    context.bundles.floor = await bundleToFile(require.resolve('./floor/workflows'), 'floor');
}

async function main(): Promise<void> {
  const settings = settingsFromArgs();
  const temporalRows = settings.rows.some((row) => row === 'floor' || row === 'agent' || row === 'agent-local');
  console.log(
    `bench: rows ${settings.rows.join(', ')}; ${settings.runs} runs after ${settings.warmup} warm-up, ` +
      `${settings.concurrency} at a time${settings.skipPeers ? '; langgraph left out (--skip-peers / BENCH_PEERS=0)' : ''}`,
  );
  const model = await startModelProcess();
  const context: Context = { settings, model, bundles: {} };
  const rows: Row[] = [];
  const failed: { row: RowName; error: string }[] = [];
  try {
    for (const name of settings.rows) {
      // The server and the bundles come after the bare row: its process holds no bundler, no server.
      if (name !== 'bare' && name !== 'langgraph' && !context.server) await startTemporal(context);
      console.log(`${LABELS[name]} ...`);
      let row: Row;
      try {
        const measuring =
          name === 'bare'
            ? bareRow(context)
            : name === 'floor'
              ? floorRow(context)
              : name === 'langgraph'
                ? langgraphRow(context)
                : agentRow(context, name === 'agent-local');
        row = await (context.server ? Promise.race([measuring, context.server.died]) : measuring);
      } catch (error) {
        // A row that did not do its whole work has no figures; the other rows still count.
        failed.push({ row: name, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
        console.error(`  FAILED: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      rows.push(row);
      console.log(`  ${row.runsPerSecond.toFixed(1)} runs/s, p50 ${row.p50Ms.toFixed(1)} ms`);
      if (row.workerExit?.forced)
        console.log(`  warning: its worker did not exit within 15 s of SIGTERM and was killed`);
      if (row.extraModelRequests)
        console.log(`  note: ${row.extraModelRequests} model requests beyond the work unit (retries)`);
    }
  } finally {
    await context.server?.stop();
    await model.stop();
    for (const bundle of Object.values(context.bundles)) bundle.remove();
  }

  const bare = rows.find((row) => row.row === 'bare');
  for (const row of rows) if (bare) row.overheadPerStepMs = (row.p50Ms - bare.p50Ms) / STEPS;
  console.log(
    `\n${settings.runs} runs per row (after ${settings.warmup} warm-up), ${settings.concurrency} at a time. A run = ` +
      `${MODEL_CALLS} model calls + ${TOOL_CALLS} tool calls; a step = one model call plus the tool call it asked for ` +
      `(${STEPS} per run). Overhead per step = (p50 − p50 of bare) / ${STEPS}; CPU per step over the measured runs ` +
      `(bare: this process; Temporal rows: the worker process and the dev server from /proc; langgraph: its own report). ` +
      `Eager activity dispatch: ${temporalRows ? (settings.eager ? 'on' : 'off') : 'n/a'}; agentRun's model and tool ` +
      `calls ${settings.oneQueue ? "on the runs' task queue (--one-queue)" : 'on their own task queues'}.\n`,
  );
  printTable(rows);
  const { ratios, lines } = comparisons(rows);
  if (lines.length) console.log(`\n${lines.join('\n')}`);
  if (!bare) console.log('\n(no bare row: overhead per step needs it)');
  const file = writeResults('bench', {
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
    settings: { ...settings, eager: temporalRows ? settings.eager : undefined },
    workUnit: { modelCalls: MODEL_CALLS, toolCalls: TOOL_CALLS, steps: STEPS, floorActivities: AGENT_RUN_ACTIVITIES },
    rows,
    ratios,
    failed,
  });
  console.log(`\nresults: ${file}`);
  if (failed.length) {
    console.error(`\nFAILED rows (no figures): ${failed.map((failure) => failure.row).join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

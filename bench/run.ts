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
 *   agent-unstreamed: the same with MODEL_STREAMING=false; agent-status-usage: with
 *   USAGE_ATTRIBUTES=with-status (usage search attributes written with the status only);
 * - agent-local: the same with `LOCAL_ACTIVITIES=model,tools` (the local-activity fast path);
 * - langgraph, restate, dbos: the other engines (peer-rows.ts, bench/peers/, installed on demand).
 *
 * Each row reports runs/s, p50/p95 per run, overhead per step over bare, CPU per step of the process
 * running the loop and of the engine's server (from /proc, over the measured runs), the loop's RSS,
 * history events and bytes persisted per step, and for the durable rows the recovery after SIGKILL of
 * the loop's process (support/recovery.ts). It ends with the capacity table (support/capacity.ts):
 * what the figures imply for 1,000 runs in flight at a model latency. The figures go to
 * bench/results/bench-<timestamp>.json. The machine is noisy: compare rows of one invocation.
 *
 * Flags (env twins): --runs N (BENCH_RUNS, 60), --concurrency N (BENCH_CONCURRENCY, 10),
 * --warmup N (BENCH_WARMUP, 10), --rows / --only bare,floor,agent,... (BENCH_ROWS, all; see ROWS),
 * --skip-peers (BENCH_PEERS=0: no langgraph, restate, dbos), --no-recovery (BENCH_RECOVERY=0),
 * --model-latency 2s, --concurrent-runs 1000, --price IN,OUT (USD per million tokens, 3,15),
 * --action-price USD (per million Temporal Actions, 50), --eager / --no-eager (BENCH_EAGER=0: the dev server's eager
 * activity dispatch, on by default), --separate-queues (agentRun's model and tool calls on queues of
 * their own, as a fleet by role routes them, instead of the runs' queue, a single worker's default),
 * --server dev|cluster (BENCH_SERVER: the Temporal rows on the dev server, or on a real cluster on
 * PostgreSQL, `./temporal-dev.sh cluster`), --worker-env KEY=VALUE (repeatable: more env for both workers),
 * --cpu-prof DIR (each Temporal row's worker writes CPU profiles of its threads into DIR/<row> as it
 * exits; `tsx bench/support/cpu-profile.ts DIR/<row>` says where the time went).
 */
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import type { ChatMessage } from '../src/types';
import { durablePeerRow, langgraphRow } from './peer-rows';
import { commonOptions, eagerChoice, wholeNumber } from './support/args';
import { benchTextTable } from './support/bench-table';
import {
  LABELS,
  PEER_ROWS,
  poolFigures,
  ROWS,
  TEMPORAL_ROWS,
  type Context,
  type Row,
  type RowName,
} from './support/bench-row';
import { parseLatency, parseTokenPrice, PricesSchema, type CapacityQuestion } from './support/capacity';
import { capacityCaption, capacityLines, capacityTextTable, tokensPerRun } from './support/capacity-table';
import { startModelProcess, type ModelProcess } from './support/model-process';
import { runPool } from './support/pool';
import { cpuMeter } from './support/proc';
import { RECOVERY_MODEL_DELAY_MS } from './support/recovery';
import { writeResults } from './support/results';
import { startClusterServer } from './support/cluster-server';
import { startBenchServer } from './support/server';
import { fixed } from './support/table';
import { benchTask, checkModelWork, MODEL_CALLS, STEPS, TOOL_CALLS, AGENT_RUN_ACTIVITIES } from './support/work-unit';
import { parseEnvPairs } from './support/workers';
import benchAgents from './agent';
import { pluginApi } from '../src/plugin-api';
import { agentRow, floorRow } from './temporal-rows';

function settingsFromArgs() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      concurrency: { type: 'string' },
      warmup: { type: 'string' },
      rows: { type: 'string' },
      only: { type: 'string' },
      'skip-peers': { type: 'boolean' },
      'no-recovery': { type: 'boolean' },
      'separate-queues': { type: 'boolean' },
      server: { type: 'string' },
      'model-latency': { type: 'string' },
      'concurrent-runs': { type: 'string' },
      price: { type: 'string' },
      'action-price': { type: 'string' },
      'cpu-prof': { type: 'string' },
      ...commonOptions,
    },
    strict: true,
  });
  const rows = (values.only ?? values.rows ?? process.env.BENCH_ROWS ?? ROWS.join(','))
    .split(',')
    .map((row) => row.trim())
    .filter(Boolean);
  const unknown = rows.filter((row) => !ROWS.includes(row as RowName));
  if (unknown.length) throw new Error(`unknown row ${unknown.join(', ')} (rows: ${ROWS.join(', ')})`);
  const skipPeers = Boolean(values['skip-peers']) || process.env.BENCH_PEERS === '0';
  const tokenPrice = parseTokenPrice(values.price ?? '3,15');
  const question: CapacityQuestion = {
    concurrentRuns: wholeNumber('--concurrent-runs', values['concurrent-runs'], 1000, 1),
    modelLatencyMs: parseLatency(values['model-latency'] ?? '2s'),
    stepsPerRun: STEPS,
    prices: PricesSchema.parse({
      inputPerMillionTokens: tokenPrice.input,
      outputPerMillionTokens: tokenPrice.output,
      perMillionActions: Number(values['action-price'] ?? 50),
    }),
  };
  return {
    runs: wholeNumber('--runs', values.runs ?? process.env.BENCH_RUNS, 60, 1),
    concurrency: wholeNumber('--concurrency', values.concurrency ?? process.env.BENCH_CONCURRENCY, 10, 1),
    warmup: wholeNumber('--warmup', values.warmup ?? process.env.BENCH_WARMUP, 10),
    rows: ROWS.filter((row) => rows.includes(row) && !(PEER_ROWS.includes(row) && skipPeers)),
    skipPeers,
    recovery: !values['no-recovery'] && process.env.BENCH_RECOVERY !== '0',
    separateQueues: Boolean(values['separate-queues']),
    server: serverChoice(values.server ?? process.env.BENCH_SERVER),
    eager: eagerChoice(values),
    workerEnv: parseEnvPairs(values['worker-env']),
    cpuProfileDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    question,
  };
}

/** Which Temporal the Temporal rows run on: the dev server (the default), or a real cluster on PostgreSQL. */
function serverChoice(value: string | undefined): 'dev' | 'cluster' {
  if (value === undefined || value === 'dev' || value === 'cluster') return value ?? 'dev';
  throw new Error(`--server must be dev or cluster, got ${value}`);
}

/** Whether activities went eagerly to the worker, as the table's notes say it. */
function eagerNote(settings: { server: string; eager: boolean }, temporalRows: boolean): string {
  if (!temporalRows) return 'n/a';
  if (settings.server === 'cluster') return "the cluster's setting (Temporal cluster rows)";
  return settings.eager ? 'on' : 'off';
}

/** The bare loop: the same requests, tool and answers as a run, in this process. */
async function bareRow({ settings, model }: Context): Promise<Row> {
  const [agent] = benchAgents(pluginApi);
  const { tools, message: taskMessage } = benchTask();
  const openai = new OpenAI({ baseURL: model.baseUrl, apiKey: 'bench', maxRetries: 0 });
  const signal = new AbortController().signal;
  const run = async (index: number) => {
    const messages: ChatMessage[] = [
      { role: 'system', content: agent.instructions },
      { role: 'user', content: taskMessage },
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
    ...poolFigures(settings.runs, pool),
    workerCpuOf: 'this process',
    workerCpuSeconds,
    workerCpuSecondsPerStep: workerCpuSeconds / steps,
    modelCpuSecondsPerStep: modelUsed.own / steps,
    workerRssBytes: process.memoryUsage().rss,
    extraModelRequests: extra,
  };
}

function printTable(rows: Row[]): void {
  console.log(benchTextTable(rows));
  for (const row of rows) {
    const waits = row.history
      ? `mean schedule-to-start: activities ${fixed(row.history.activityScheduleToStartMs, 1) ?? 'n/a'} ms, ` +
        `workflow tasks ${fixed(row.history.workflowTaskScheduleToStartMs, 1)} ms`
      : undefined;
    const recovery = row.recovery
      ? `recovery: killed in step ${row.recovery.killedInStep}, serving again after ${fixed(row.recovery.restartMs / 1e3, 1)} s, ` +
        `call resent after ${fixed(row.recovery.resumeMs / 1e3, 1)} s, run done after ${fixed(row.recovery.completeMs / 1e3, 1)} s, ` +
        `${row.recovery.repeatedModelCalls} model call(s) made again`
      : undefined;
    const persisted = row.persisted && `persisted: ${row.persisted.what}`;
    const cpu = row.serverCpuOf && `server CPU: ${row.serverCpuOf}`;
    const said = [row.note, waits, cpu, persisted, recovery].filter(Boolean).join('; ');
    if (said) console.log(`  ${row.label}: ${said}`);
  }
}

/** The targets of issue #29: `agentRun` with regular activities against the floor. */
const TARGETS = { workerCpuOverFloor: 1.3, serverCpuOverFloor: 1.15, p50OverFloor: 1.5 } as const;

/** The ratios and targets these rows can answer, and the share of a step's worker CPU that is the project's. */
function comparisons(rows: Row[]) {
  const find = (name: RowName) => rows.find((row) => row.row === name);
  const [bare, floor, agent, statusUsage, local, langgraph] = [
    find('bare'),
    find('floor'),
    find('agent'),
    find('agent-status-usage'),
    find('agent-local'),
    find('langgraph'),
  ];
  const ratio = (a?: number, b?: number) => (a !== undefined && b !== undefined && b !== 0 ? a / b : undefined);
  const result = {
    agentOverFloorOverheadPerStep: ratio(agent?.overheadPerStepMs, floor?.overheadPerStepMs),
    agentOverFloorP50: ratio(agent?.p50Ms, floor?.p50Ms),
    agentOverFloorWorkerCpuPerStep: ratio(agent?.workerCpuSecondsPerStep, floor?.workerCpuSecondsPerStep),
    agentOverFloorServerCpuPerStep: ratio(agent?.serverCpuSecondsPerStep, floor?.serverCpuSecondsPerStep),
    statusUsageOverFloorServerCpuPerStep: ratio(statusUsage?.serverCpuSecondsPerStep, floor?.serverCpuSecondsPerStep),
    agentLocalOverLanggraphOverheadPerStep: ratio(local?.overheadPerStepMs, langgraph?.overheadPerStepMs),
    agentLocalOverAgentOverheadPerStep: ratio(local?.overheadPerStepMs, agent?.overheadPerStepMs),
  };
  const lines: string[] = [];
  const x = (value?: number) => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`);
  const verdict = (value: number | undefined, target: number) =>
    `${x(value)} (target ${target}x: ${value !== undefined && value <= target ? 'met' : 'NOT met'})`;
  if (agent && floor) {
    lines.push(
      `agentRun / floor: worker CPU per step ${verdict(result.agentOverFloorWorkerCpuPerStep, TARGETS.workerCpuOverFloor)}, ` +
        `server CPU per step ${verdict(result.agentOverFloorServerCpuPerStep, TARGETS.serverCpuOverFloor)}, ` +
        `p50 ${verdict(result.agentOverFloorP50, TARGETS.p50OverFloor)}, overhead per step ${x(result.agentOverFloorOverheadPerStep)}`,
    );
    const split = workerCpuSplit(agent, floor, bare);
    if (split) lines.push(split);
  }
  if (statusUsage && floor) {
    lines.push(
      `agentRun with USAGE_ATTRIBUTES=with-status / floor: server CPU per step ` +
        verdict(result.statusUsageOverFloorServerCpuPerStep, TARGETS.serverCpuOverFloor),
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

/**
 * Whose `agentRun`'s worker CPU per step is: the engine's (the floor's), the work's (the bare loop's:
 * the `openai` client's HTTP and the tools, which the floor's no-op activities do not do), and the
 * rest, the project's.
 */
function workerCpuSplit(agent: Row, floor: Row, bare?: Row): string | undefined {
  const ms = (seconds: number) => `${(seconds * 1e3).toFixed(2)} ms`;
  if (agent.workerCpuSecondsPerStep === undefined || floor.workerCpuSecondsPerStep === undefined) return undefined;
  if (bare?.workerCpuSecondsPerStep === undefined) return undefined;
  const project = agent.workerCpuSecondsPerStep - floor.workerCpuSecondsPerStep - bare.workerCpuSecondsPerStep;
  return (
    `agentRun's worker CPU per step ${ms(agent.workerCpuSecondsPerStep)}: the engine's (floor) ` +
    `${ms(floor.workerCpuSecondsPerStep)}, the work's (bare loop) ${ms(bare.workerCpuSecondsPerStep)}, ` +
    `the project's ${ms(project)}`
  );
}

function measureRow(context: Context, name: RowName): Promise<Row> {
  switch (name) {
    case 'bare':
      return bareRow(context);
    case 'floor':
      return floorRow(context);
    case 'langgraph':
      return langgraphRow(context);
    case 'restate':
    case 'dbos':
      return durablePeerRow(context, name);
    default:
      return agentRow(context, name);
  }
}

/** Starts the dev server (or the cluster) and bundles the workflows the selected rows need (once for all rows). */
async function startTemporal(context: Context): Promise<void> {
  const { settings } = context;
  if (settings.server === 'cluster') {
    context.server = await startClusterServer();
    console.log(`${context.server.what} at ${context.server.address}; eager activity dispatch as the cluster sets it`);
  } else {
    context.server = await startBenchServer(settings.eager);
    console.log(
      `dev server ${context.server.address} (pid ${context.server.pid}), eager activity dispatch ${settings.eager ? 'ON' : 'OFF'}`,
    );
  }
  // Loaded here, not at the top: the bundler would weigh on the bare row's RSS.
  const { bundleToFile } = await import('./support/bundle.js');
  if (settings.rows.some((row) => row.startsWith('agent')))
    context.bundles.agent = await bundleToFile(require.resolve('../workflows'), 'agent', true);
  if (settings.rows.includes('floor'))
    context.bundles.floor = await bundleToFile(require.resolve('./floor/workflows'), 'floor');
}

async function main(): Promise<void> {
  const settings = settingsFromArgs();
  const temporalRows = settings.rows.some((row) => TEMPORAL_ROWS.includes(row));
  console.log(
    `bench: rows ${settings.rows.join(', ')}; ${settings.runs} runs after ${settings.warmup} warm-up, ` +
      `${settings.concurrency} at a time${settings.skipPeers ? '; peers left out (--skip-peers / BENCH_PEERS=0)' : ''}` +
      `; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`,
  );
  const model = await startModelProcess();
  let recoveryModel: Promise<ModelProcess> | undefined;
  const context: Context = {
    settings,
    model,
    bundles: {},
    recoveryModel: () => (recoveryModel ??= startModelProcess(RECOVERY_MODEL_DELAY_MS)),
  };
  const loadBefore = loadavg();
  const rows: Row[] = [];
  const failed: { row: RowName; error: string }[] = [];
  try {
    for (const name of settings.rows) {
      // The server and the bundles come after the bare row: its process holds no bundler, no server.
      if (TEMPORAL_ROWS.includes(name) && !context.server) await startTemporal(context);
      console.log(`${LABELS[name]} ...`);
      let row: Row;
      try {
        const measuring = measureRow(context, name);
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
    await (await recoveryModel?.catch(() => undefined))?.stop();
    for (const bundle of Object.values(context.bundles)) bundle.remove();
  }

  const bare = rows.find((row) => row.row === 'bare');
  for (const row of rows) if (bare) row.overheadPerStepMs = (row.p50Ms - bare.p50Ms) / STEPS;
  console.log(
    `\n${settings.runs} runs per row (after ${settings.warmup} warm-up), ${settings.concurrency} at a time. A run = ` +
      `${MODEL_CALLS} model calls + ${TOOL_CALLS} tool calls; a step = one model call plus the tool call it asked for ` +
      `(${STEPS} per run). Overhead per step = (p50 − p50 of bare) / ${STEPS}; CPU per step over the measured runs ` +
      `(bare: this process; Temporal rows: the worker process and the server from /proc (the dev server, or the cluster's services and PostgreSQL); restate: the service process ` +
      `and restate-server; dbos: the app process and PostgreSQL with its backends; langgraph: its own report). ` +
      `Recovery: SIGKILL of the loop's process in step 4's model call (model answering after ` +
      `${RECOVERY_MODEL_DELAY_MS} ms), started again at once; seconds from the kill until the call is resent, and until ` +
      `the run is done. ` +
      `Eager activity dispatch: ${eagerNote(settings, temporalRows)}; agentRun's model and tool ` +
      `calls ${settings.separateQueues ? 'on their own task queues (--separate-queues)' : "on the runs' task queue"}.\n`,
  );
  printTable(rows);
  const { ratios, lines } = comparisons(rows);
  if (lines.length) console.log(`\n${lines.join('\n')}`);
  if (!bare) console.log('\n(no bare row: overhead per step and the capacity table need it)');
  const capacity = capacityLines(settings.question, rows);
  if (capacity.length)
    console.log(
      `\nCapacity (docs/capacity.md): ${capacityCaption(settings.question, tokensPerRun(rows))}\n${capacityTextTable(capacity)}`,
    );
  const file = writeResults('bench', {
    at: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      node: process.version,
      loadAverage: { before: loadBefore, after: loadavg() },
    },
    settings: { ...settings, eager: temporalRows ? settings.eager : undefined },
    workUnit: { modelCalls: MODEL_CALLS, toolCalls: TOOL_CALLS, steps: STEPS, floorActivities: AGENT_RUN_ACTIVITIES },
    rows,
    ratios,
    capacity: { question: settings.question, tokensPerRun: tokensPerRun(rows), lines: capacity },
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

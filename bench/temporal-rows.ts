/**
 * The rows of `npm run bench` on its Temporal dev server: the floor (bench/floor) and `agentRun` on
 * the project's worker, with regular activities (streamed and not) and on the local-activity fast
 * path, each followed, for `agentRun`, by a recovery run (support/recovery.ts).
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Client } from '@temporalio/client';
import { WorkflowType } from '../src/contract';
import type { AgentRunResult } from '../src/types';
import type { agentRun } from '../workflows';
import type { floorRun } from './floor/workflows';
import { LABELS, poolFigures, type Context, type Row } from './support/bench-row';
import { sampleHistory, spreadSample } from './support/history-sample';
import { runPool } from './support/pool';
import { resultWithin } from './support/run-deadline';
import { cpuMeter, memoryBytes } from './support/proc';
import { measureRecovery, type Recovery } from './support/recovery';
import {
  AGENT_RUN_ACTIVITIES,
  AGENT_RUN_LOCAL_ACTIVITIES,
  checkModelWork,
  checkRunResult,
  MODEL_CALLS,
  STEPS,
  taskInput,
  TOOL_CALLS,
} from './support/work-unit';
import { startAgentWorker, startFloorWorker, type AgentWorkerOptions, type WorkerProcess } from './support/workers';

/** Payload of each floor activity, about the size of a small model or tool call's. */
const FLOOR_PAYLOAD_BYTES = 200;

type AgentRowName = 'agent' | 'agent-unstreamed' | 'agent-status-usage' | 'agent-local';
type TemporalRowName = 'floor' | AgentRowName;

/** What a regular row's worker runs with besides the bench's own settings, and how its note says it. */
const REGULAR_VARIANTS: Partial<Record<AgentRowName, { env: Record<string, string>; note: string }>> = {
  'agent-unstreamed': { env: { MODEL_STREAMING: 'false' }, note: 'model calls not streamed' },
  'agent-status-usage': {
    env: { USAGE_ATTRIBUTES: 'with-status' },
    note: 'model calls streamed, usage attributes written with the status only',
  },
};

/**
 * A Temporal row on `worker` (stopped at the end): `runOne` starts one run, waits for its result and
 * throws unless it did the whole work unit. The worker and the server are measured from /proc over
 * the measured runs only; history from a sample of 5 of them.
 */
async function temporalRow(
  context: Context,
  row: TemporalRowName,
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
      server: cpuMeter(server!.pids),
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
      ...poolFigures(settings.runs, pool),
      workerCpuOf: `worker process ${worker.pid}`,
      workerCpuSeconds: used.worker.own,
      workerCpuSecondsPerStep: used.worker.own / steps,
      workerChildrenCpuSeconds: used.worker.descendants,
      serverCpuOf: server!.what,
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

/**
 * The folder the row's measured worker writes its CPU profiles into (`--cpu-prof DIR`), if any, with a
 * copy of the workflow bundle it runs: support/cpu-profile.ts names the bundle's functions by module.
 */
function profileDir(context: Context, row: TemporalRowName): string | undefined {
  const dir = context.settings.cpuProfileDir;
  if (dir === undefined) return undefined;
  const bundle = context.bundles[row === 'floor' ? 'floor' : 'agent']!;
  mkdirSync(join(dir, row), { recursive: true });
  copyFileSync(bundle.path, join(dir, row, basename(bundle.path)));
  return join(dir, row);
}

export async function floorRow(context: Context): Promise<Row> {
  const worker = await startFloorWorker({
    address: context.server!.address,
    bundlePath: context.bundles.floor!.path,
    extraEnv: context.settings.workerEnv,
    cpuProfileDir: profileDir(context, 'floor'),
  });
  return temporalRow(context, 'floor', worker, async (client, taskQueue, workflowId) => {
    const handle = await client.workflow.start<typeof floorRun>('floorRun', {
      taskQueue,
      workflowId,
      args: [
        { activities: AGENT_RUN_ACTIVITIES, local: AGENT_RUN_LOCAL_ACTIVITIES, payloadBytes: FLOOR_PAYLOAD_BYTES },
      ],
    });
    const result = await resultWithin(handle);
    if (result.activities !== AGENT_RUN_ACTIVITIES)
      throw new Error(`floor run ${workflowId} ran ${result.activities} activities`);
  });
}

/** Starts one `agentRun` of the work unit and checks its result. */
async function runAgent(client: Client, taskQueue: string, workflowId: string): Promise<AgentRunResult> {
  const handle = await client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
    taskQueue,
    workflowId,
    args: [taskInput],
  });
  const result = await resultWithin(handle);
  checkRunResult(result, workflowId);
  return result;
}

/** One `agentRun` killed mid-run with its worker, which is started again on the same task queue. */
async function agentRecovery(context: Context, options: Omit<AgentWorkerOptions, 'modelBaseUrl'>): Promise<Recovery> {
  const model = await context.recoveryModel();
  const workerOptions = { ...options, modelBaseUrl: model.baseUrl };
  let worker = await startAgentWorker(workerOptions);
  try {
    const { taskQueue } = worker;
    const id = `bench-recovery-${taskQueue.slice(-8)}`;
    return await measureRecovery(model, {
      run: async () => void (await runAgent(context.server!.client, taskQueue, id)),
      async killAndRestart() {
        const killedAt = performance.now();
        worker.child.kill('SIGKILL');
        await worker.stop();
        worker = await startAgentWorker({ ...workerOptions, taskQueue });
        return { restartMs: performance.now() - killedAt };
      },
    });
  } finally {
    await worker.stop();
  }
}

export async function agentRow(context: Context, row: AgentRowName): Promise<Row> {
  const local = row === 'agent-local';
  const variant = REGULAR_VARIANTS[row];
  const options = {
    address: context.server!.address,
    bundlePath: context.bundles.agent!.path,
    local,
    separateQueues: context.settings.separateQueues,
    extraEnv: { ...context.settings.workerEnv, ...variant?.env },
  };
  const worker = await startAgentWorker({
    ...options,
    modelBaseUrl: context.model.baseUrl,
    cpuProfileDir: profileDir(context, row),
  });
  const tokens: { input: number; output: number }[] = [];
  const measured = await temporalRow(context, row, worker, async (client, taskQueue, workflowId) => {
    const { usage } = await runAgent(client, taskQueue, workflowId);
    tokens.push({ input: usage.inputTokens, output: usage.outputTokens });
  });
  const mean = (key: 'input' | 'output') => tokens.reduce((total, run) => total + run[key], 0) / tokens.length;
  measured.tokensPerRun = { input: mean('input'), output: mean('output') };
  const { activitiesScheduled, markers } = measured.history!;
  const allLocal = activitiesScheduled <= 1 && markers >= MODEL_CALLS + TOOL_CALLS;
  measured.note = local
    ? `fast path LOCAL_ACTIVITIES=model,tools: ${allLocal ? 'in effect' : 'NOT in effect (the worker ignored it)'}`
    : `regular activities, ${variant?.note ?? 'model calls streamed (the default)'}`;
  measured.note += ` (one run's history: ${activitiesScheduled} activities scheduled, ${markers} markers)`;
  const floorRegular = AGENT_RUN_ACTIVITIES - AGENT_RUN_LOCAL_ACTIVITIES;
  if (!local && activitiesScheduled !== floorRegular)
    measured.note += `; NOTE: the floor runs ${floorRegular} regular activities, this run scheduled ${activitiesScheduled}`;
  // Recovery is the same as the default row's where only streaming or visibility differ.
  if (context.settings.recovery && !variant) measured.recovery = await agentRecovery(context, options);
  return measured;
}

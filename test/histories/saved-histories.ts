/**
 * Recording runs' histories as the replay test reads them: one JSON file per run, read back from a
 * fresh dev server with the Temporal CLI. Each recorder (record.ts, and the recorders of single
 * features beside it) declares only its folder, model script, workers and scenarios; `recordHistories`
 * does the rest.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { AgentRunInput } from '../../src/input';
import type { AgentRegistry } from '../../src/registry';
import { startScriptedModel, type Script } from '../../testing';
import type { agentRun } from '../../workflows';
import { startDevServer, stopDevServer, temporalBinary } from '../support/dev-server';
import { startTestWorker, type TestWorker } from '../support/harness';

/**
 * Starts a run of the scenario as `history-<scenario>`, or `history-<scenario>-<suffix>` when it starts
 * several; `options` as a test worker's `start` takes them.
 */
export type StartRun = (
  input: AgentRunInput,
  suffix?: string,
  options?: Parameters<TestWorker['start']>[2],
) => Promise<WorkflowHandle<typeof agentRun>>;
/** Drives the runs it starts to their end. */
export type ScenarioRun = (start: StartRun) => Promise<unknown>;
/** A scenario on the first worker declared, or on the one it names. */
export type Scenario<Worker extends string> = ScenarioRun | { on: Worker; run: ScenarioRun };

/** Saves the runs of `workflowId` in `folder` as `<name>…json` (`saveChain`, `saveTree`). */
type SaveRuns = (address: string, folder: string, name: string, workflowId: string) => void | Promise<void>;

export interface Recorder<Worker extends string> {
  /** A new folder: a recorder never writes into one that exists (in-flight runs have those histories). */
  folder: string;
  script: Script;
  /**
   * Each worker's settings besides the scripted model's address, its agents when not from
   * `AGENT_MODULES`, and whether it starts only once the first run has started (`late`): a mixed fleet
   * whose first worker takes that run's first task alone.
   */
  workers: Record<Worker, { env?: Record<string, string | undefined>; registry?: AgentRegistry; late?: true }>;
  /** Recorded in order, each saved as soon as it ends, as `<scenario>.json` (or more files, see `save`). */
  scenarios: Record<string, Scenario<NoInfer<Worker>>>;
  /** How a run is saved: every run of its chain (the default), or every run of its tree (`saveTree`). */
  save?: SaveRuns;
}

/** A scenario that runs `input` once and waits for its result (a failed run fails the recording). */
export const finishedRun =
  (input: AgentRunInput): ScenarioRun =>
  async (start) =>
    (await start(input)).result();

/** A scenario that runs `input` once and waits for it to close however it ends (a run that fails on purpose). */
export const settledRun =
  (input: AgentRunInput): ScenarioRun =>
  async (start) =>
    (await start(input)).result().catch(() => undefined);

/** Records `recorder`'s scenarios on a fresh dev server; a failure is printed and exits the process with 1. */
export function recordHistories<Worker extends string>(recorder: Recorder<Worker>): void {
  record(recorder).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}

async function record<Worker extends string>({
  folder,
  script,
  workers: settings,
  scenarios,
  save = saveChain,
}: Recorder<Worker>): Promise<void> {
  if (existsSync(folder)) throw new Error(`${folder} exists: record into a new folder, keep the old histories`);
  mkdirSync(folder, { recursive: true });
  const server = await startDevServer();
  const model = await startScriptedModel(script);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_TMP_DIR = tmpdir();
  const workers = new Map<Worker, TestWorker>();
  const startWorkers = async (late: boolean) => {
    for (const name of Object.keys(settings) as Worker[]) {
      const { env, registry } = settings[name];
      if (Boolean(settings[name].late) !== late) continue;
      workers.set(
        name,
        await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, WORKFLOW_BUNDLE: undefined, ...env }, registry),
      );
    }
  };
  try {
    await startWorkers(false);
    let lateStarted = false;
    for (const [name, scenario] of Object.entries(scenarios)) {
      const { on, run } = typeof scenario === 'function' ? { on: [...workers.keys()][0], run: scenario } : scenario;
      const worker = workers.get(on)!;
      const runs: Record<string, string> = {}; // file name to workflow id
      await run(async (input, suffix, options) => {
        const file = suffix ? `${name}-${suffix}` : name;
        runs[file] = `history-${file}`;
        const handle = await worker.start(input, runs[file], options);
        if (!lateStarted) {
          lateStarted = true;
          await startWorkers(true);
        }
        return handle;
      });
      for (const [file, workflowId] of Object.entries(runs)) {
        await save(server.address, folder, file, workflowId);
      }
    }
  } finally {
    for (const worker of [...workers.values()].reverse()) await worker.stop();
    await model.close();
    await stopDevServer(server.process);
  }
}

/** The Temporal CLI's JSON answer to `args`, on the dev server at `address`. */
function temporalJson(address: string, args: string[]): string {
  return execFileSync(temporalBinary(), [...args, '--address', address, '-o', 'json'], { encoding: 'utf8' });
}

/** The runs `query` lists, oldest first; none is an error (a recorder would otherwise save nothing quietly). */
function listRuns(address: string, query: string): { workflowId: string; runId: string }[] {
  const runs = JSON.parse(temporalJson(address, ['workflow', 'list', '--query', query])) as {
    execution: { workflowId: string; runId: string };
    startTime: string;
  }[];
  if (runs.length === 0) throw new Error(`no run is listed for ${query}`);
  return runs.sort((a, b) => a.startTime.localeCompare(b.startTime)).map(({ execution }) => execution);
}

/** Writes the histories of `runIds` (one workflow's runs, oldest first) as `<name>.json`, or `<name>-<n>.json` for a chain. */
function writeRuns(address: string, folder: string, name: string, workflowId: string, runIds: string[]): void {
  runIds.forEach((runId, index) => {
    const path = join(folder, runIds.length > 1 ? `${name}-${index + 1}.json` : `${name}.json`);
    writeFileSync(path, temporalJson(address, ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId]));
    console.log(`recorded ${path}`);
  });
}

/** Saves the history of every run of `workflowId` (oldest first) as `<name>.json`, or `<name>-<n>.json` for chains. */
export function saveChain(address: string, folder: string, name: string, workflowId: string): void {
  const runIds = listRuns(address, `WorkflowId = "${workflowId}"`).map(({ runId }) => runId);
  writeRuns(address, folder, name, workflowId, runIds);
}

/**
 * Saves every run of the tree under `rootId` (sub-agents' runs): the root's as `<name>.json`, a
 * sub-agent's as `<name>--<call path>.json` (`/` written `~`), each run of a chain numbered.
 */
export async function saveTree(address: string, folder: string, name: string, rootId: string): Promise<void> {
  await sleep(1_000); // visibility lists every run of the tree
  const byId = new Map<string, string[]>();
  for (const { workflowId, runId } of listRuns(address, `RootWorkflowId = "${rootId}"`)) {
    byId.set(workflowId, [...(byId.get(workflowId) ?? []), runId]);
  }
  for (const [workflowId, runIds] of byId) {
    const below = workflowId.slice(rootId.length).replace(/^\//, '').replaceAll('/', '~');
    writeRuns(address, folder, below ? `${name}--${below}` : name, workflowId, runIds);
  }
}

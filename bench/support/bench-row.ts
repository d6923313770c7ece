/** The rows of `npm run bench`: their names, labels, figures, and what each row's code is handed. */
import type { BenchServer } from './server';
import type { BundleFile } from './bundle';
import type { HistorySample } from './history-sample';
import type { ModelProcess } from './model-process';
import type { PoolResult } from './pool';
import type { Recovery } from './recovery';
import { spread } from './stats';

export const ROWS = [
  'bare',
  'floor',
  'agent',
  'agent-unstreamed',
  'agent-status-usage',
  'agent-local',
  'langgraph',
  'restate',
  'dbos',
] as const;
export type RowName = (typeof ROWS)[number];
/** Rows of processes other than Temporal's, installed on demand (left out by --skip-peers). */
export const PEER_ROWS: readonly RowName[] = ['langgraph', 'restate', 'dbos'];
/** Rows run on the bench's Temporal dev server. */
export const TEMPORAL_ROWS: readonly RowName[] = [
  'floor',
  'agent',
  'agent-unstreamed',
  'agent-status-usage',
  'agent-local',
];

export const LABELS: Record<RowName, string> = {
  bare: 'bare loop (in-process, not durable)',
  floor: 'Temporal floor (12 no-op activities, 1 local)',
  agent: 'agentRun (regular activities)',
  'agent-unstreamed': 'agentRun (regular, MODEL_STREAMING=false)',
  'agent-status-usage': 'agentRun (regular, USAGE_ATTRIBUTES=with-status)',
  'agent-local': 'agentRun (local activities: fast path)',
  langgraph: 'LangGraph.js createReactAgent + SqliteSaver',
  restate: 'Restate service, a ctx.run per call',
  dbos: 'DBOS workflow on PostgreSQL, a step per call',
};

/** One row's figures (times in ms, CPU in seconds, memory in bytes); per step = per run / 6. */
export interface Row {
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
  /** Whose CPU `workerCpuSeconds` is: the process running the loop. */
  workerCpuOf: string;
  workerCpuSeconds: number;
  workerCpuSecondsPerStep: number;
  /** CPU of the worker's child processes over the window (should be ~0: the worker is one process). */
  workerChildrenCpuSeconds?: number;
  /** Whose CPU `serverCpuSecondsPerStep` is (the Temporal dev server, restate-server, PostgreSQL). */
  serverCpuOf?: string;
  serverCpuSecondsPerStep?: number;
  /** The bench process (the client) and the scripted model, per step, for the record. */
  clientCpuSecondsPerStep?: number;
  modelCpuSecondsPerStep?: number;
  workerRssBytes: number;
  workerPeakRssBytes?: number;
  history?: HistorySample & { eventsPerStep: number; bytesPerStep: number };
  /** What a peer engine persisted per step, and what that figure is. */
  persisted?: { bytesPerStep: number; what: string };
  /** The model's tokens per run, as `agentRun` counted them. */
  tokensPerRun?: { input: number; output: number };
  /** Recovery after SIGKILL of the process running the loop (support/recovery.ts). */
  recovery?: Recovery;
  /** Model requests beyond the work unit's (retried calls). */
  extraModelRequests?: number;
  workerExit?: { code: number | null; signal: string | null; forced: boolean; ms: number };
  versions?: Record<string, string>;
  latenciesMs: number[];
}

export interface BenchSettings {
  runs: number;
  concurrency: number;
  warmup: number;
  rows: RowName[];
  recovery: boolean;
  eager: boolean;
  separateQueues: boolean;
  /** Where the Temporal rows run: the dev server, or a real cluster on PostgreSQL (`--server cluster`). */
  server: 'dev' | 'cluster';
  workerEnv: Record<string, string>;
  /** Where each Temporal row's worker writes its CPU profiles (a folder per row), with `--cpu-prof DIR`. */
  cpuProfileDir?: string;
}

export interface Context {
  settings: BenchSettings;
  model: ModelProcess;
  /** The model recovery runs use: every answer delayed (support/recovery.ts); started on first use. */
  recoveryModel(): Promise<ModelProcess>;
  server?: BenchServer;
  bundles: Partial<Record<'agent' | 'floor', BundleFile>>;
}

/** Throughput and latency figures of a pool of `runs` runs. */
export function poolFigures(runs: number, { latenciesMs, wallMs }: PoolResult) {
  const { p50, p95, max } = spread(latenciesMs);
  return { wallMs, runsPerSecond: (runs / wallMs) * 1000, p50Ms: p50, p95Ms: p95, maxMs: max, latenciesMs };
}

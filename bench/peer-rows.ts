/**
 * The rows of `npm run bench` that run other engines, each installed on demand from its own folder
 * of bench/peers: LangGraph.js (one process that measures itself), and the durable peers Restate and
 * DBOS (durable-peers.ts), measured from /proc like the Temporal rows and timed in recovery.
 */
import { spawn } from 'node:child_process';
import { startDbos, startRestate, type DurableEngine } from './durable-peers';
import { ensurePeer } from './peers/ensure';
import { LABELS, poolFigures, type Context, type Row } from './support/bench-row';
import { runPool } from './support/pool';
import { cpuMeter, memoryBytes } from './support/proc';
import { measureRecovery } from './support/recovery';
import { checkModelWork, STEPS } from './support/work-unit';

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

export async function langgraphRow({ settings, model }: Context): Promise<Row> {
  const script = ensurePeer('langgraph');
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
    ...poolFigures(settings.runs, {
      latenciesMs: [...report.latenciesMs].sort((a, b) => a - b),
      wallMs: report.wallMs,
    }),
    workerCpuOf: 'the peer process (its own report)',
    workerCpuSeconds: report.cpuSeconds,
    workerCpuSecondsPerStep: report.cpuSeconds / steps,
    modelCpuSecondsPerStep: modelUsed.own / steps,
    workerRssBytes: report.rssBytes,
    extraModelRequests: extra,
    versions: report.versions,
  };
}

const ENGINES: Record<'restate' | 'dbos', (modelBaseUrl: string) => Promise<DurableEngine>> = {
  restate: startRestate,
  dbos: startDbos,
};

/** Runs the work unit on `engine` (stopped at the end): warm-up, measured runs, persisted bytes. */
async function engineFigures(context: Context, row: 'restate' | 'dbos', engine: DurableEngine): Promise<Row> {
  const { settings, model } = context;
  const prefix = `bench-${row}-${Date.now().toString(36)}`;
  await runPool(settings.warmup, settings.concurrency, (index) => engine.run(`${prefix}-warmup-${index}`));
  const before = await model.stats();
  engine.startMeasuring();
  const loopPid = engine.loop.pid;
  const meters = {
    loop: cpuMeter(loopPid),
    server: cpuMeter(engine.server.pid),
    model: cpuMeter(model.process.pid),
    client: process.cpuUsage(),
  };
  const ids: string[] = [];
  const pool = await runPool(settings.runs, settings.concurrency, (index) => {
    const id = `${prefix}-${index}`;
    ids.push(id);
    return engine.run(id);
  });
  const used = {
    loop: meters.loop.stop(),
    server: meters.server.stop(),
    model: meters.model.stop(),
    client: process.cpuUsage(meters.client),
  };
  const memory = memoryBytes(loopPid);
  const extra = checkModelWork(before, await model.stats(), settings.runs, LABELS[row]);
  const persisted = engine.persisted(ids);
  const steps = settings.runs * STEPS;
  return {
    row,
    label: LABELS[row],
    note: Object.entries(engine.versions)
      .map(([name, version]) => `${name} ${version}`)
      .join(', '),
    runs: settings.runs,
    concurrency: settings.concurrency,
    warmup: settings.warmup,
    ...poolFigures(settings.runs, pool),
    workerCpuOf: `the loop's process ${loopPid}`,
    workerCpuSeconds: used.loop.own,
    workerCpuSecondsPerStep: used.loop.own / steps,
    workerChildrenCpuSeconds: used.loop.descendants,
    serverCpuOf: `${engine.server.what} ${engine.server.pid}`,
    // A server's children are its own (PostgreSQL's backends, one per connection).
    serverCpuSecondsPerStep: (used.server.own + used.server.descendants) / steps,
    clientCpuSecondsPerStep: (used.client.user + used.client.system) / 1e6 / steps,
    modelCpuSecondsPerStep: used.model.own / steps,
    workerRssBytes: memory.rss,
    workerPeakRssBytes: memory.peak,
    persisted: { bytesPerStep: persisted.bytes / STEPS, what: persisted.what },
    extraModelRequests: extra,
    versions: engine.versions,
  };
}

/** A durable peer's row, then (unless --no-recovery) its recovery on a fresh engine with the delayed model. */
export async function durablePeerRow(context: Context, row: 'restate' | 'dbos'): Promise<Row> {
  const engine = await ENGINES[row](context.model.baseUrl);
  let measured: Row;
  try {
    measured = await engineFigures(context, row, engine);
  } finally {
    await engine.stop();
  }
  if (!context.settings.recovery) return measured;
  const model = await context.recoveryModel();
  const recovering = await ENGINES[row](model.baseUrl);
  try {
    let index = 0;
    measured.recovery = await measureRecovery(model, {
      run: () => recovering.run(`bench-${row}-recovery-${index++}`),
      killAndRestart: () => recovering.killAndRestart(),
    });
  } finally {
    await recovering.stop();
  }
  return measured;
}

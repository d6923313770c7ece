/**
 * The scripted model as a process of its own (started by model-process.ts): its CPU is neither the
 * bench's nor a worker's. Serves the work unit's script (work-unit.ts) with env `BENCH_MODEL_DELAY_MS`
 * on every answer; sends `{ baseUrl }` to its parent once it listens, and answers `'stats'` with its
 * counts.
 */
import { startScriptedModel } from '../../testing';
import { benchScript, emptyStats } from './work-unit';

async function main(): Promise<void> {
  const stats = emptyStats();
  const model = await startScriptedModel(benchScript(stats, Number(process.env.BENCH_MODEL_DELAY_MS ?? 0)));
  // The server keeps every request; the bench needs only the counts. Each is let go, but the array keeps
  // its length: the server numbers its completion and tool call ids by index, and LangGraph replaces a
  // message whose id it has seen in the thread instead of appending it.
  const requests = model.requests as unknown[];
  let released = 0;
  setInterval(() => {
    for (; released < requests.length; released++) requests[released] = null;
  }, 1_000).unref();
  process.on('message', (message) => {
    if (message === 'stats') process.send!({ stats });
  });
  process.on('disconnect', () => void model.close().then(() => process.exit(0)));
  process.send!({ baseUrl: model.baseUrl });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

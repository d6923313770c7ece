/** Starts the scripted model process (model-server.ts) and talks to it. */
import { spawnNodeProcess, type NodeProcess } from './node-process';
import type { ModelStats } from './work-unit';

export interface ModelProcess {
  baseUrl: string;
  process: NodeProcess;
  /** What the model has seen so far. */
  stats(): Promise<ModelStats>;
  stop(): Promise<void>;
}

/** Starts the model with `delayMs` before every answer; resolves once it listens. */
export async function startModelProcess(delayMs = 0): Promise<ModelProcess> {
  const model = spawnNodeProcess(
    'bench/support/model-server.ts',
    { BENCH_MODEL_DELAY_MS: String(delayMs) },
    { ipc: true },
  );
  const { child } = model;
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once('message', (message: { baseUrl: string }) => resolve(message.baseUrl));
    child.once('exit', () => reject(new Error(`the scripted model exited before it listened:\n${model.output()}`)));
  });
  return {
    baseUrl,
    process: model,
    stats: () =>
      new Promise<ModelStats>((resolve) => {
        const listen = (message: { stats?: ModelStats }) => {
          if (!message.stats) return;
          child.off('message', listen);
          resolve(message.stats);
        };
        child.on('message', listen);
        child.send('stats');
      }),
    async stop() {
      child.disconnect();
      await model.stop(5_000);
    },
  };
}

/**
 * The `durable-agents` program (`npm run client -- --help`; the package bin runs its compiled twin).
 * The program and its commands are in `cli/`; the API it drives is `durable-agents/client` (client.ts).
 */
import { main } from './cli/program';
import { flushTracing } from './src/tracing';

export { main };

if (require.main === module) {
  // The worker side, for the commands that run its code (agents, worker, dev): loaded only for them.
  // Spans still batched would die with the process: they go out first (a no-op unless tracing is on).
  void main(process.argv, () => import('./worker.js')).then(async (code) => {
    await flushTracing();
    process.exit(code);
  });
}

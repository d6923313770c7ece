/**
 * The client side's entry: the API for starting agent runs, talking to them, following them and
 * fetching their results from code (`import { AgentClient } from 'durable-agents/client'`), and, run
 * as a program, the `durable-agents` CLI (`npm run client -- --help`). The modules are in `client/`.
 */
import { main } from './client/cli';
import { flushTracing } from './src/tracing';

export {
  AgentClient,
  listQuery,
  type ConnectOptions,
  type ListFilter,
  type RunFailure,
  type RunReport,
  type RunStreamEvent,
  type RunSummary,
  type StreamOptions,
  type TaskQueueWorkers,
  type WaitNotice,
  type WaitOptions,
} from './client/agent-client';
export {
  formatMessage,
  formatOutcome,
  formatReport,
  formatResult,
  formatRunList,
  formatRunTranscript,
  formatState,
  formatSteps,
  formatTranscript,
  formatUsage,
  formatWaitNotice,
} from './client/format';
export {
  EXPORT_FORMATS,
  exportJsonl,
  exportMarkdown,
  exportOpenAi,
  exportTranscript,
  transcriptFromHistory,
  type ExportFormat,
  type RunTranscript,
  type StepUsage,
} from './client/history-transcript';
export { loadTemporalConfig, type TemporalConfig, type TemporalOverrides } from './src/config';
export * from './src/contract';
export { AgentClientError, ClientErrorKind, ErrorType } from './src/errors';
export type { AgentRunInput } from './src/input';
export * from './src/types';

if (require.main === module) {
  // The worker side, for the commands that run its code (agents, worker, dev): loaded only for them.
  // Spans still batched would die with the process: they go out first (a no-op unless tracing is on).
  void main(process.argv, () => import('./worker.js')).then(async (code) => {
    await flushTracing();
    process.exit(code);
  });
}

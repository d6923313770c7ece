/**
 * The client side's entry: the API for starting agent runs, talking to them, following them and
 * fetching their results from code (`import { AgentClient } from 'durable-agents/client'`), and, run
 * as a program, the `durable-agents` CLI (`npm run client -- --help`). The modules are in `client/`.
 */
import { main } from './client/cli';

export { AgentClient, listQuery, type ListFilter, type RunEvent, type RunSummary } from './client/agent-client';
export {
  formatMessage,
  formatResult,
  formatRunList,
  formatState,
  formatTranscript,
  formatUsage,
} from './client/format';
export { loadTemporalConfig, type TemporalConfig } from './src/config';
export * from './src/contract';
export { AgentClientError, ClientErrorKind, ErrorType } from './src/errors';
export type { AgentRunInput } from './src/input';
export * from './src/types';

if (require.main === module) {
  void main(process.argv).then((code) => process.exit(code));
}

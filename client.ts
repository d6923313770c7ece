/**
 * `durable-agents/client`: starting agent runs, talking to them, following them and fetching their
 * results from code (`import { AgentClient } from 'durable-agents/client'`). The modules are in
 * `client/`; the `durable-agents` program built on them is `cli.ts` (its printers are not API).
 */
export { AgentClient } from './client/agent-client';
export { listQuery, type ListFilter } from './client/run-status';
export type { ConnectOptions, RunFailure, RunReport, RunSummary } from './client/run-types';
export type { RunStreamEvent, StreamOptions } from './client/run-stream';
export type { TaskQueueWorkers, WaitNotice, WaitOptions } from './client/waiting';
export { transcriptFromHistory, type RunTranscript, type StepUsage } from './client/history-transcript';
export { AgentClientError, ClientErrorKind, ErrorType } from './src/errors';
export { loadTemporalConfig, type TemporalConfig, type TemporalOverrides } from './src/config';
export type { AgentRunInput } from './src/input';
// The contract (workflow, message and search attribute names) and the run's types, whole.
export * from './src/contract';
export * from './src/types';

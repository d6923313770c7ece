/**
 * Testing helpers for agent authors (and this project's own tests): `startAgentTest`, which runs
 * agents on a worker in the test's process against a scripted OpenAI-compatible model (the real
 * `openai` client, no network), on Temporal's local test environment or a server already running
 * (docs/testing.md); the scripted model on its own; and a dev server to share between test files.
 */
export { startAgentTest, type AgentTest, type AgentTestOptions } from './agent-test';
export {
  byTurn,
  isSummaryRequest,
  lastOf,
  reply,
  serverProfiles,
  startScriptedModel,
  turnOf,
  type ModelRequest,
  type Reply,
  type Script,
  type ScriptedModel,
  type ScriptedModelOptions,
  type ScriptedToolCall,
  type ServerProfile,
} from './scripted-model';
export { startDevServer, stopDevServer, type DevServer } from './dev-server';

/**
 * Testing helpers for agent authors: a scripted OpenAI-compatible model server to point a worker's
 * `OPENAI_BASE_URL` at, so agents are tested through the real `openai` client with no network.
 */
export {
  byTurn,
  isSummaryRequest,
  lastOf,
  reply,
  startScriptedModel,
  turnOf,
  type ModelRequest,
  type Reply,
  type Script,
  type ScriptedModel,
  type ScriptedToolCall,
} from './scripted-model';

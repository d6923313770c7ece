/**
 * The offline demo model: a scripted OpenAI-compatible endpoint, so a fresh clone runs the demo (`npm
 * run demo`), the CLI tour and the user's own agents (`npm run worker -- --offline`, or
 * `AGENT_MODEL=offline`) with no API key and no network. For the example `helpdesk` agent it plays a
 * customer-support conversation (offline-helpdesk-script.ts); for any other agent it calls the agent's
 * tools with arguments made up from their schemas (schema-arguments.ts), approval tools included, then
 * answers with what they returned, labelled as its own. Same request, same answer. A product feature,
 * so it lives with the worker (runtime/), on the scripted Chat Completions server the tests' model
 * also runs on.
 */
import { buildPriceTable, DEFAULT_PRICES } from '../src/pricing';
import { SUMMARY_INSTRUCTIONS } from '../src/summaries';
import { readToolResult } from '../src/tool-result-kinds';
import { MemoryToolName, type ChatMessage } from '../src/types';
import { helpdeskReply, isHelpdeskRequest, spoken } from './offline-helpdesk-script';
import { argumentsFor } from './schema-arguments';
import { requestedCap } from './scripted-server-profiles';
import {
  reply,
  replyWithinCap,
  startScriptedModel,
  turnOf,
  type ModelRequest,
  type Reply,
  type ScriptedModel,
} from './scripted-chat-completions';

export { SAMPLE_REQUEST } from './offline-helpdesk-script';

export const OFFLINE_MODEL_NAME = 'offline-demo-model';

/** The `AGENT_MODEL` that makes `npm run worker` serve this model (as `--offline` does). */
export const OFFLINE_AGENT_MODEL = 'offline';

/** How the offline model's every answer to an agent other than the helpdesk begins. */
export const OFFLINE_ANSWER_LABEL = 'Offline demo model (scripted, no real model was asked):';

/** How much of a tool's result, or of the user's message, an answer quotes. */
const QUOTED_CHARACTERS = 300;

/**
 * The env a worker needs to call the offline model at `baseUrl` for runs that name no model, priced
 * like gpt-4o-mini (so a run shows what it would cost) on top of the user's own `MODEL_PRICES`, which
 * this checks like the worker does.
 */
export function offlineModelEnv(baseUrl: string, modelPrices?: string): Record<string, string> {
  const prices = { [OFFLINE_MODEL_NAME]: DEFAULT_PRICES['gpt-4o-mini'], ...buildPriceTable(modelPrices) };
  return { OPENAI_BASE_URL: baseUrl, AGENT_MODEL: OFFLINE_MODEL_NAME, MODEL_PRICES: JSON.stringify(prices) };
}

/** Tokens, roughly as a real model counts them: the same text is always the same count. */
const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

/** `text` cut to what an answer quotes. */
function quoted(text: string): string {
  const characters = [...text];
  return characters.length > QUOTED_CHARACTERS ? `${characters.slice(0, QUOTED_CHARACTERS).join('')}…` : text;
}

/** A tool's result in the conversation, with the name of the tool its call named. */
interface ToolOutcome {
  tool: string;
  content: string;
}

/** The results among `messages`, each named after its call (found anywhere in `conversation`). */
function outcomesOf(messages: ChatMessage[], conversation: ChatMessage[]): ToolOutcome[] {
  const tools = new Map<string, string>();
  for (const message of conversation) {
    if (message.role === 'assistant')
      for (const call of message.tool_calls ?? []) tools.set(call.id, call.function.name);
  }
  return messages.flatMap((message) =>
    message.role === 'tool' ? [{ tool: tools.get(message.tool_call_id) ?? 'a tool', content: message.content }] : [],
  );
}

/** ` ("their note")`, or nothing without one. */
const noted = (note: unknown) => (typeof note === 'string' && note ? ` ("${quoted(note)}")` : '');

/**
 * `forecast returned {"sky":"sunny"}`; for a call a person approved with a note (or edited arguments),
 * the tool's own result and what they said; for one they denied, that it did not run and their note.
 */
function described({ tool, content }: ToolOutcome): string {
  const read = readToolResult(content);
  if (read.kind === 'denied') return `${tool} did not run: a person denied it${noted(read.note)}`;
  let parsed: { approval?: { note?: unknown; editedArguments?: unknown } };
  try {
    parsed = JSON.parse(content) ?? {};
  } catch {
    parsed = {};
  }
  if (typeof parsed.approval === 'object' && parsed.approval && 'result' in parsed) {
    const edited = parsed.approval.editedArguments === undefined ? '' : ' with edited arguments';
    const result = JSON.stringify((parsed as { result: unknown }).result);
    const { note } = parsed.approval;
    return `${tool} returned ${quoted(result)} (approved${edited}${typeof note === 'string' && note ? `: "${quoted(note)}"` : ''})`;
  }
  return `${tool} returned ${quoted(content)}`;
}

/** What the offline model says once the tools have answered (or when there is nothing to call). */
function answer(request: ModelRequest, sinceUser: ChatMessage[], earlier: ChatMessage[], userMessage: string): string {
  const now = outcomesOf(sinceUser, request.messages);
  if (now.length) return `${OFFLINE_ANSWER_LABEL} ${now.map(described).join('; ')}.`;
  const before = outcomesOf(earlier, request.messages);
  const you = `you said "${quoted(userMessage)}"`;
  if (before.length) {
    return `${OFFLINE_ANSWER_LABEL} ${you}. I call the agent's tools once a conversation: ${before.map(described).join('; ')}.`;
  }
  return `${OFFLINE_ANSWER_LABEL} ${you}, and this agent has no tools for me to call.`;
}

/**
 * The next step for any agent: after the user's first message, a call to each of its tools (memory
 * tools aside: they would store made-up facts), with arguments from their schemas; once the results
 * are in, and for every later message, a short answer that quotes them.
 */
function anyAgentReply(request: ModelRequest, toolsAllowed: boolean): Reply {
  const { messages } = request;
  let lastUser = messages.length - 1;
  while (lastUser >= 0 && messages[lastUser].role !== 'user') lastUser -= 1;
  const userMessage = lastUser >= 0 ? (messages[lastUser].content ?? '') : '';
  const sinceUser = messages.slice(lastUser + 1);
  const earlier = messages.slice(0, Math.max(lastUser, 0));
  const memoryTools: readonly string[] = Object.values(MemoryToolName);
  const tools = (request.tools ?? []).filter((tool) => !memoryTools.includes(tool.function.name));
  const calledBefore = messages.some((message) => message.role === 'assistant' && message.tool_calls?.length);
  const input = tokens(JSON.stringify([messages, request.tools ?? []]));
  if (toolsAllowed && tools.length && !calledBefore) {
    const context = { userMessage: quoted(userMessage).replace(/…$/, '') };
    const calls = tools.map((tool, position) => ({
      // Ids from the conversation, not the server's count of requests: a retried request is answered alike.
      id: `call_offline_${turnOf(request)}_${position}`,
      name: tool.function.name,
      args: argumentsFor(tool.function.parameters, context),
    }));
    return reply.tools(calls, { input, output: tokens(JSON.stringify(calls)) });
  }
  const text = answer(request, sinceUser, earlier, userMessage);
  return spoken(text, { input, output: tokens(text) });
}

/** A summary of the conversation, when the run asks for one to shorten it. */
function summaryReply(request: ModelRequest): Reply {
  const text = `${OFFLINE_ANSWER_LABEL} a conversation of ${request.messages.length - 1} messages.`;
  return reply.text(text, { input: tokens(JSON.stringify(request.messages)), output: tokens(text) });
}

/**
 * The offline model's answer to `request`, held to what the request asks as OpenAI holds it: no tool
 * call under `tool_choice: "none"` (a run's wrap-up call), and its text within the output cap.
 */
export function offlineReply(request: ModelRequest): Reply {
  const first = request.messages[0];
  if (first?.role === 'system' && first.content === SUMMARY_INSTRUCTIONS) return summaryReply(request);
  const toolsAllowed = request.body?.tool_choice !== 'none';
  const scripted =
    toolsAllowed && isHelpdeskRequest(request) ? helpdeskReply(request) : anyAgentReply(request, toolsAllowed);
  if (scripted.kind !== 'message') return scripted;
  return replyWithinCap(scripted, requestedCap(request.body ?? {}));
}

export function startOfflineModel(): Promise<ScriptedModel> {
  return startScriptedModel(offlineReply);
}

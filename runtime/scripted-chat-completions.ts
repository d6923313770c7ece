/**
 * A scripted OpenAI-compatible Chat Completions server: a script decides each reply from the request
 * (so a retried request gets the same answer as the first try), and the replies go out through real
 * HTTP to the real `openai` client, streamed or not. The offline demo model (offline-model.ts) is one
 * script; the scripted model that tests use, this project's and agent authors' own, is another
 * (`durable-agents/testing`, testing/scripted-model.ts, adds the helpers for writing them). A
 * compatibility profile (scripted-server-profiles.ts) makes it answer as llama-server, llama-cpp-python,
 * vLLM or Ollama do, and it can be taken down and brought up on its port (a model server's outage).
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatMessage } from '../src/types';
import {
  cappedContent,
  profiledCap,
  profiledRefusal,
  profiledRoute,
  UNPARSED_OUTPUT_ERROR,
  type ServerProfile,
} from './scripted-server-profiles';
import { RateLimitWindow, type ScriptedRateLimit } from './scripted-rate-limits';

export interface ModelRequest {
  model: string;
  messages: ChatMessage[];
  tools?: { type: 'function'; function: { name: string; description: string; parameters: unknown } }[];
  headers: IncomingMessage['headers'];
  receivedAt: number;
  /** The request's JSON body, as sent (its sampling and reasoning parameters among the rest). */
  body?: Record<string, unknown>;
  /** Whether the client asked for the answer as a stream of server-sent events. */
  stream: boolean;
  /** The output caps the request sent, if any. */
  maxCompletionTokens?: number;
  maxTokens?: number;
  /** Set when the server's rate limit (`rateLimit`) refused it with a 429. */
  throttled?: true;
  /** When its answer went out (its first byte, streamed or not). */
  answeredAt?: number;
  /** The request's `response_format`, if it sent one (`{ type: 'json_schema', json_schema }`). */
  responseFormat?: unknown;
}

/** The usage a reply reports: `cached` of the input read from the prompt cache, `reasoning` of the output, as OpenAI reports them. */
export interface ScriptedUsage {
  input: number;
  output: number;
  cached?: number;
  reasoning?: number;
}

export interface ScriptedToolCall {
  name: string;
  /** An object is sent as JSON; a string is sent as it is (to script malformed arguments). */
  args: unknown;
  id?: string;
}

export type Reply =
  | {
      kind: 'message';
      content?: string | null;
      toolCalls?: ScriptedToolCall[];
      usage?: ScriptedUsage;
      delayMs?: number;
      /** Sent with the answer: `x-ratelimit-remaining-tokens`, ... (`rateLimit` sends its own). */
      headers?: Record<string, string>;
      /** How a streamed answer is sent (a request with `stream: true`); the content in one piece otherwise. */
      streaming?: Streaming;
    }
  | { kind: 'error'; status: number; message: string; headers?: Record<string, string> }
  /**
   * Sends `body` as the response, whatever it is (a string as it is, anything else as JSON): to script
   * answers off the Chat Completions shape.
   */
  | { kind: 'raw'; body: unknown; status?: number; headers?: Record<string, string>; delayMs?: number }
  /** Holds the request open until the server closes: a model call in flight. */
  | { kind: 'hang' }
  /** An answer that never ends: the start of a body of `contentType`, then filler until the client leaves. */
  | { kind: 'endless'; contentType: string }
  /**
   * Output the server could not parse, as llama-server answers it: HTTP 500 unstreamed; streamed,
   * HTTP 200, then an SSE `error` event with the same body and no `[DONE]`.
   */
  | { kind: 'unparsed' };

/** How a streamed answer's content is sent: in these pieces, this far apart, and whether it breaks off. */
export interface Streaming {
  pieces: string[];
  everyMs?: number;
  /** The connection is cut after this many pieces: a call that fails mid-stream. */
  breakAfter?: number;
}

export type Script = (request: ModelRequest, index: number) => Reply | Promise<Reply>;

const DEFAULT_USAGE: ScriptedUsage = { input: 100, output: 20 };

/** Replies for scripts. */
export const reply = {
  text: (content: string, usage = DEFAULT_USAGE): Reply => ({ kind: 'message', content, usage }),
  tools: (toolCalls: ScriptedToolCall[], usage = DEFAULT_USAGE): Reply => ({
    kind: 'message',
    content: null,
    toolCalls,
    usage,
  }),
  error: (status: number, message: string, headers?: Record<string, string>): Reply => ({
    kind: 'error',
    status,
    message,
    headers,
  }),
  /** `body` sent as it is (status 200, `application/json` unless `options` say otherwise). */
  raw: (
    body: unknown,
    options: { status?: number; headers?: Record<string, string>; delayMs?: number } = {},
  ): Reply => ({ kind: 'raw', body, ...options }),
  hang: (): Reply => ({ kind: 'hang' }),
  /** Model output the server could not parse (llama-server's 500 "… does not match the expected peg-native format"). */
  unparsed: (): Reply => ({ kind: 'unparsed' }),
  /** A body that never ends (`application/json` unless another type is given): a hostile endpoint. */
  endless: (contentType = 'application/json'): Reply => ({ kind: 'endless', contentType }),
  /**
   * A text answer that, streamed, comes in `pieces` `everyMs` apart (cut off after `breakAfter` pieces
   * when set); unstreamed, their concatenation at once.
   */
  streamed: (
    pieces: string[],
    options: { everyMs?: number; breakAfter?: number; usage?: ScriptedUsage } = {},
  ): Reply => ({
    kind: 'message',
    content: pieces.join(''),
    usage: options.usage ?? DEFAULT_USAGE,
    streaming: { pieces, everyMs: options.everyMs, breakAfter: options.breakAfter },
  }),
};

/** How many times the model has answered in this conversation so far (its assistant messages). */
export function turnOf(request: ModelRequest): number {
  return request.messages.filter((message) => message.role === 'assistant').length;
}

export interface ScriptedModel {
  /** Pass as `OPENAI_BASE_URL`. */
  baseUrl: string;
  /** Every request received, in order. */
  requests: ModelRequest[];
  /** Stops listening and cuts every connection: the port refuses until `bringUp` (a model server's outage). */
  takeDown(): Promise<void>;
  /** Listens again on the same port. */
  bringUp(): Promise<void>;
  close(): Promise<void>;
}

/** How the scripted server behaves beyond its script. */
export interface ScriptedModelOptions {
  /** Answer as this server does (`serverProfiles.llamaServer()`, ...); OpenAI's behaviour without one. */
  profile?: ServerProfile;
  /** A budget of tokens per window, said in headers and refused with 429s past it (scripted-rate-limits.ts). */
  rateLimit?: ScriptedRateLimit;
}

/** A message reply as sent: cut at the request's cap by a profiled server (`cut`). */
export type MessageReply = Extract<Reply, { kind: 'message' }> & { cut?: boolean };

function toolCallsOf(reply: MessageReply, index: number) {
  return reply.toolCalls?.map((call, position) => ({
    id: call.id ?? `call_${index}_${position}`,
    type: 'function' as const,
    function: { name: call.name, arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args) },
  }));
}

function usageOf(reply: MessageReply) {
  const usage: ScriptedUsage = reply.usage ?? DEFAULT_USAGE;
  return {
    prompt_tokens: usage.input,
    completion_tokens: usage.output,
    total_tokens: usage.input + usage.output,
    ...(usage.cached !== undefined && { prompt_tokens_details: { cached_tokens: usage.cached } }),
    ...(usage.reasoning !== undefined && { completion_tokens_details: { reasoning_tokens: usage.reasoning } }),
  };
}

function completion(request: ModelRequest, reply: MessageReply, index: number, profile?: ServerProfile) {
  const toolCalls = toolCallsOf(reply, index);
  return {
    id: `chatcmpl-scripted-${index}`,
    object: 'chat.completion',
    created: Math.floor(request.receivedAt / 1000),
    model: request.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: reply.content ?? null,
          ...(toolCalls?.length && { tool_calls: toolCalls }),
        },
        finish_reason: reply.cut ? 'length' : toolCalls?.length ? 'tool_calls' : 'stop',
      },
    ],
    ...(!profile?.noUsage && { usage: usageOf(reply) }),
  };
}

/**
 * Sends `reply` as Chat Completions chunks (server-sent events), as OpenAI streams: the role, the
 * content piece by piece, each tool call, the finish reason, then the usage if the request asked for
 * it (`stream_options.include_usage`), then `[DONE]`. A reply scripted to break off is cut mid-stream.
 */
async function sendStream(
  response: ServerResponse,
  request: ModelRequest,
  reply: MessageReply,
  index: number,
  options: { includeUsage: boolean; signal: AbortSignal; profile?: ServerProfile },
): Promise<void> {
  const base = {
    id: `chatcmpl-scripted-${index}`,
    object: 'chat.completion.chunk',
    created: Math.floor(request.receivedAt / 1000),
    model: request.model,
  };
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) => ({
    ...base,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
  const event = (data: unknown) => write(response, `data: ${JSON.stringify(data)}\n\n`);
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...reply.headers });
  await event(chunk({ role: 'assistant', content: options.profile?.nullFirstDelta ? null : '' }));
  const pieces = reply.streaming?.pieces ?? (reply.content ? [reply.content] : []);
  for (const [position, piece] of pieces.entries()) {
    if (position > 0 && reply.streaming?.everyMs)
      await sleep(reply.streaming.everyMs, undefined, { signal: options.signal });
    if (position === reply.streaming?.breakAfter) {
      response.destroy();
      return;
    }
    await event(chunk({ content: piece }));
  }
  const toolCalls = toolCallsOf(reply, index) ?? [];
  for (const [position, call] of toolCalls.entries())
    await event(chunk({ tool_calls: [{ index: position, ...call }] }));
  await event(chunk({}, reply.cut ? 'length' : toolCalls.length ? 'tool_calls' : 'stop'));
  if (options.includeUsage && !options.profile?.noUsageInStreams)
    await event({ ...base, choices: [], usage: usageOf(reply) });
  response.end('data: [DONE]\n\n');
}

/** The start of an answer, then 64 KB of filler whenever the client has read the last, until it leaves. */
async function sendEndless(response: ServerResponse, contentType: string, signal: AbortSignal): Promise<void> {
  response.writeHead(200, { 'content-type': contentType });
  response.write(contentType.includes('event-stream') ? 'data: {"choices":[{"delta":{"content":"' : '{"choices":[');
  const filler = 'a'.repeat(65_536);
  while (!response.destroyed && !signal.aborted) await write(response, filler);
}

/**
 * Writes `data`, then waits while the client has not read what is buffered (or until it leaves). An
 * answer written without waiting piles every piece into one writev at `end`, which Node 24 refuses
 * (EINVAL) past the system's limit of pieces, and the client sees the connection close.
 */
async function write(response: ServerResponse, data: string): Promise<void> {
  if (response.write(data) || response.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      response.off('drain', done).off('close', done);
      resolve();
    };
    response.on('drain', done).on('close', done);
  });
}

/** The request's body as text, decoded once: a chunk may end inside a multi-byte character. */
async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * llama-server's answer to output it could not parse: HTTP 500 unstreamed; streamed, HTTP 200, the
 * role's first chunk, then an SSE `error` event with the same body, and no `[DONE]`.
 */
function sendUnparsed(response: ServerResponse, stream: boolean): void {
  if (!stream) {
    send(response, 500, { error: UNPARSED_OUTPUT_ERROR });
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  response.write(
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: null } }] })}\n\n`,
  );
  response.end(`event: error\ndata: ${JSON.stringify({ error: UNPARSED_OUTPUT_ERROR })}\n\n`);
}

/** `reply` as a server holding answers to `cap` sends it: its text cut there, finishing for `length`. */
export function replyWithinCap(reply: MessageReply, cap: number | undefined): MessageReply {
  const { content, cut } = cappedContent(reply.content ?? '', cap);
  if (!cut) return reply;
  const usage = reply.usage ?? DEFAULT_USAGE;
  return { ...reply, content, cut, usage: { input: usage.input, output: cap! }, streaming: { pieces: [content] } };
}

/** The request as scripts read it. */
function modelRequest(body: Record<string, unknown>, req: IncomingMessage): ModelRequest {
  const cap = (value: unknown) => (typeof value === 'number' ? { value } : undefined);
  return {
    model: body.model as string,
    messages: body.messages as ChatMessage[],
    tools: body.tools as ModelRequest['tools'],
    headers: req.headers,
    body,
    receivedAt: Date.now(),
    stream: body.stream === true,
    ...(cap(body.max_completion_tokens) && { maxCompletionTokens: body.max_completion_tokens as number }),
    ...(cap(body.max_tokens) && { maxTokens: body.max_tokens as number }),
    ...(body.response_format !== undefined && { responseFormat: body.response_format }),
  };
}

/** Sends `scripted` (any reply but `hang`) as the answer to `request` (whose JSON body is `body`). */
async function sendReply(
  res: ServerResponse,
  scripted: Exclude<Reply, { kind: 'hang' }>,
  options: {
    request: ModelRequest;
    body: Record<string, unknown>;
    index: number;
    profile?: ServerProfile;
    signal: AbortSignal;
  },
): Promise<void> {
  const { request, body, index, profile, signal } = options;
  switch (scripted.kind) {
    case 'error':
      send(
        res,
        scripted.status,
        { error: { message: scripted.message, type: 'scripted_error', code: null } },
        scripted.headers,
      );
      return;
    case 'endless':
      await sendEndless(res, scripted.contentType, signal);
      return;
    case 'unparsed':
      sendUnparsed(res, request.stream);
      return;
  }
  if (scripted.delayMs) await sleep(scripted.delayMs, undefined, { signal });
  if (scripted.kind === 'raw') {
    res.writeHead(scripted.status ?? 200, { 'content-type': 'application/json', ...scripted.headers });
    res.end(typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body));
    return;
  }
  const sent = replyWithinCap(scripted, profiledCap(profile, body));
  if (request.stream) {
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    await sendStream(res, request, sent, index, { includeUsage, signal, profile });
    return;
  }
  send(res, 200, completion(request, sent, index, profile), sent.headers);
}

/** Starts the server on a free loopback port; `options.profile` makes it answer as a real server does. */
export async function startScriptedModel(script: Script, options: ScriptedModelOptions = {}): Promise<ScriptedModel> {
  const { profile } = options;
  const rateWindow = options.rateLimit && new RateLimitWindow(options.rateLimit);
  /** `reply` under the rate limit: sent with what is left, or a 429 when it would pass the window's budget. */
  const limited = (reply: Reply, request: ModelRequest): Reply => {
    if (!rateWindow || reply.kind !== 'message') return reply;
    const usage = reply.usage ?? DEFAULT_USAGE;
    const decision = rateWindow.take(usage.input + usage.output);
    if (decision.allowed) return { ...reply, headers: { ...decision.headers, ...reply.headers } };
    request.throttled = true;
    return { kind: 'error', status: 429, message: 'Rate limit reached for tokens per min', headers: decision.headers };
  };
  const requests: ModelRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const closing = new AbortController();
  // Every delayed reply listens for the close: many at once are normal here, not a leak.
  setMaxListeners(0, closing.signal);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://scripted').pathname;
    if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
      const routed = profiledRoute(profile, req.method, path);
      if (routed) send(res, routed.status, routed.body);
      else send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
      return;
    }
    try {
      const body = JSON.parse(await readBody(req));
      const request = modelRequest(body, req);
      const index = requests.push(request) - 1;
      const refused = profiledRefusal(profile, body);
      if (refused) {
        send(res, refused.status, refused.body);
        return;
      }
      const scripted = limited(await script(request, index), request);
      if (scripted.kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      await sendReply(res, scripted, { request, body, index, profile, signal: closing.signal });
      request.answeredAt = Date.now();
    } catch (error) {
      if (closing.signal.aborted || res.destroyed) return;
      send(res, 500, {
        error: { message: `scripted model failed: ${(error as Error).message}`, type: 'server_error' },
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    takeDown: stop,
    bringUp: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
    close: () => {
      closing.abort();
      return stop();
    },
  };
}

/**
 * A scripted OpenAI-compatible Chat Completions server: a script decides each reply from the request
 * (so a retried request gets the same answer as the first try), and the replies go out through real
 * HTTP to the real `openai` client, streamed or not. The offline demo model (offline-model.ts) is one
 * script; the scripted model that tests use, this project's and agent authors' own, is another
 * (`durable-agents/testing`, testing/scripted-model.ts, adds the helpers for writing them).
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChatMessage } from '../src/types';

export interface ModelRequest {
  model: string;
  messages: ChatMessage[];
  tools?: { type: 'function'; function: { name: string; description: string; parameters: unknown } }[];
  headers: IncomingMessage['headers'];
  receivedAt: number;
  /** Whether the client asked for the answer as a stream of server-sent events. */
  stream: boolean;
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
      usage?: { input: number; output: number };
      delayMs?: number;
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
  | { kind: 'endless'; contentType: string };

/** How a streamed answer's content is sent: in these pieces, this far apart, and whether it breaks off. */
export interface Streaming {
  pieces: string[];
  everyMs?: number;
  /** The connection is cut after this many pieces: a call that fails mid-stream. */
  breakAfter?: number;
}

export type Script = (request: ModelRequest, index: number) => Reply | Promise<Reply>;

const DEFAULT_USAGE = { input: 100, output: 20 };

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
  /** A body that never ends (`application/json` unless another type is given): a hostile endpoint. */
  endless: (contentType = 'application/json'): Reply => ({ kind: 'endless', contentType }),
  /**
   * A text answer that, streamed, comes in `pieces` `everyMs` apart (cut off after `breakAfter` pieces
   * when set); unstreamed, their concatenation at once.
   */
  streamed: (
    pieces: string[],
    options: { everyMs?: number; breakAfter?: number; usage?: { input: number; output: number } } = {},
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
  close(): Promise<void>;
}

type MessageReply = Extract<Reply, { kind: 'message' }>;

function toolCallsOf(reply: MessageReply, index: number) {
  return reply.toolCalls?.map((call, position) => ({
    id: call.id ?? `call_${index}_${position}`,
    type: 'function' as const,
    function: { name: call.name, arguments: typeof call.args === 'string' ? call.args : JSON.stringify(call.args) },
  }));
}

function usageOf(reply: MessageReply) {
  const usage = reply.usage ?? DEFAULT_USAGE;
  return { prompt_tokens: usage.input, completion_tokens: usage.output, total_tokens: usage.input + usage.output };
}

function completion(request: ModelRequest, reply: MessageReply, index: number) {
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
        finish_reason: toolCalls?.length ? 'tool_calls' : 'stop',
      },
    ],
    usage: usageOf(reply),
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
  options: { includeUsage: boolean; signal: AbortSignal },
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
  const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  event(chunk({ role: 'assistant', content: '' }));
  const pieces = reply.streaming?.pieces ?? (reply.content ? [reply.content] : []);
  for (const [position, piece] of pieces.entries()) {
    if (position > 0 && reply.streaming?.everyMs)
      await sleep(reply.streaming.everyMs, undefined, { signal: options.signal });
    if (position === reply.streaming?.breakAfter) {
      response.destroy();
      return;
    }
    event(chunk({ content: piece }));
  }
  const toolCalls = toolCallsOf(reply, index) ?? [];
  for (const [position, call] of toolCalls.entries()) event(chunk({ tool_calls: [{ index: position, ...call }] }));
  event(chunk({}, toolCalls.length ? 'tool_calls' : 'stop'));
  if (options.includeUsage) event({ ...base, choices: [], usage: usageOf(reply) });
  response.end('data: [DONE]\n\n');
}

/** The start of an answer, then 64 KB of filler whenever the client has read the last, until it leaves. */
async function sendEndless(response: ServerResponse, contentType: string, signal: AbortSignal): Promise<void> {
  response.writeHead(200, { 'content-type': contentType });
  response.write(contentType.includes('event-stream') ? 'data: {"choices":[{"delta":{"content":"' : '{"choices":[');
  const filler = 'a'.repeat(65_536);
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        response.off('drain', done).off('close', done);
        resolve();
      };
      response.on('drain', done).on('close', done);
    });
  while (!response.destroyed && !signal.aborted) {
    if (!response.write(filler)) await writable();
  }
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

/** Starts the server on a free loopback port. */
export async function startScriptedModel(script: Script): Promise<ScriptedModel> {
  const requests: ModelRequest[] = [];
  const hanging = new Set<ServerResponse>();
  const closing = new AbortController();
  // Every delayed reply listens for the close: many at once are normal here, not a leak.
  setMaxListeners(0, closing.signal);
  const server = createServer(async (req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      send(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error' } });
      return;
    }
    try {
      const body = JSON.parse(await readBody(req));
      const request: ModelRequest = {
        model: body.model,
        messages: body.messages,
        tools: body.tools,
        headers: req.headers,
        receivedAt: Date.now(),
        stream: body.stream === true,
      };
      const index = requests.push(request) - 1;
      const scripted = await script(request, index);
      if (scripted.kind === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (scripted.kind === 'error') {
        send(
          res,
          scripted.status,
          { error: { message: scripted.message, type: 'scripted_error', code: null } },
          scripted.headers,
        );
        return;
      }
      if (scripted.kind === 'endless') {
        await sendEndless(res, scripted.contentType, closing.signal);
        return;
      }
      if (scripted.delayMs) await sleep(scripted.delayMs, undefined, { signal: closing.signal });
      if (scripted.kind === 'raw') {
        res.writeHead(scripted.status ?? 200, { 'content-type': 'application/json', ...scripted.headers });
        res.end(typeof scripted.body === 'string' ? scripted.body : JSON.stringify(scripted.body));
        return;
      }
      if (request.stream) {
        const includeUsage = body.stream_options?.include_usage === true;
        await sendStream(res, request, scripted, index, { includeUsage, signal: closing.signal });
        return;
      }
      send(res, 200, completion(request, scripted, index));
    } catch (error) {
      if (closing.signal.aborted) return;
      send(res, 500, {
        error: { message: `scripted model failed: ${(error as Error).message}`, type: 'server_error' },
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        closing.abort();
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

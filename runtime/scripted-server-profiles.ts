/**
 * Compatibility profiles of the scripted Chat Completions server: what real OpenAI-compatible servers
 * do, as measured against them (llama.cpp's `llama-server` and `llama-cpp-python` 0.3.36 with Qwen2.5
 * models; vLLM's and Ollama's documented answers), so every change is tested against them in CI:
 * - llama-cpp-python refuses an assistant message whose `content` is null (HTTP 500, a pydantic
 *   validation list over several lines), sends no usage in streams, and ignores `max_completion_tokens`;
 * - llama-server sends `content: null` in its first delta, honours `max_completion_tokens`, reports
 *   its window at `GET /props` (`n_ctx`) and refuses a request past it with a 400 `exceed_context_size_error`;
 *   output it cannot parse is an HTTP 500, or streamed, HTTP 200 then an SSE `error` event, no `[DONE]`;
 * - vLLM reports `max_model_len` at `GET /v1/models` and refuses past it with its own 400 body
 *   (`{"object": "error", "message": ...}`, not OpenAI's shape);
 * - Ollama reports the model's context length at `POST /api/show`.
 */
import type { ChatMessage } from '../src/types';

/** How a profiled server behaves; every field off is OpenAI's behaviour. */
export interface ServerProfile {
  /** Named after the server it copies, for test titles. */
  name: string;
  /** An assistant message with `content: null` gets HTTP 500 and a multi-line validation list (llama-cpp-python). */
  refusesNullContent?: boolean;
  /** A stream ends without a usage chunk, even when `stream_options.include_usage` asks for one. */
  noUsageInStreams?: boolean;
  /** No usage in any answer, streamed or not. */
  noUsage?: boolean;
  /** Answers are cut at the cap the request sends; this one ignores `max_completion_tokens` (knows only `max_tokens`). */
  ignoresMaxCompletionTokens?: boolean;
  /** The first delta of a stream says `content: null` (llama-server). */
  nullFirstDelta?: boolean;
  /**
   * Requests past this many tokens (the request's JSON at 4 bytes a token) are refused with a 400 in
   * `contextErrors`' words.
   */
  contextWindow?: number;
  /** Whose 400 a request past the window gets. */
  contextErrors?: 'llama-server' | 'vllm';
  /** Where the server says its window: llama-server's `/props`, vLLM's `/v1/models`, Ollama's `/api/show`. */
  reportsWindow?: 'llama-server' | 'vllm' | 'ollama';
  /** The model a vLLM server serves (its `/v1/models` lists this one). */
  servedModel?: string;
}

/** The profiles, each a server as measured; options set its window and whether it says it. */
export const serverProfiles = {
  /** llama.cpp's `llama-server` (started with `-c window`). */
  llamaServer: ({ window = 16_384, reportsWindow = true }: { window?: number; reportsWindow?: boolean } = {}) =>
    ({
      name: 'llama-server',
      nullFirstDelta: true,
      contextWindow: window,
      contextErrors: 'llama-server',
      ...(reportsWindow && { reportsWindow: 'llama-server' }),
    }) satisfies ServerProfile,
  /** llama-cpp-python's server (`python -m llama_cpp.server`), version 0.3.36. */
  llamaCppPython: () =>
    ({
      name: 'llama-cpp-python',
      refusesNullContent: true,
      noUsageInStreams: true,
      ignoresMaxCompletionTokens: true,
    }) satisfies ServerProfile,
  /** vLLM's OpenAI-compatible server (`--max-model-len window`), serving `model`. */
  vllm: ({
    window = 8_192,
    reportsWindow = true,
    model = 'served-model',
  }: { window?: number; reportsWindow?: boolean; model?: string } = {}) =>
    ({
      name: 'vLLM',
      contextWindow: window,
      contextErrors: 'vllm',
      servedModel: model,
      ...(reportsWindow && { reportsWindow: 'vllm' }),
    }) satisfies ServerProfile,
  /** Ollama's OpenAI-compatible endpoint (it truncates past its window rather than refuse). */
  ollama: ({ window = 4_096 }: { window?: number } = {}) =>
    ({ name: 'Ollama', reportsWindow: 'ollama', contextWindow: window }) satisfies ServerProfile,
  /** An endpoint that reports no usage at all. */
  noUsage: () => ({ name: 'no usage', noUsage: true, noUsageInStreams: true }) satisfies ServerProfile,
};

/** Tokens of a request as a profiled server counts them: its JSON at 4 bytes a token. */
export function profiledTokens(value: unknown): number {
  return Math.ceil(Buffer.byteLength(JSON.stringify(value) ?? '') / 4);
}

/** An HTTP answer a profile gives instead of the script's reply. */
export interface ProfiledAnswer {
  status: number;
  body: unknown;
}

/** llama-cpp-python's 500 for assistant messages with `content: null`: pydantic's list, one problem over several lines. */
function nullContentRefusal(indexes: number[]): ProfiledAnswer {
  const problems = indexes.flatMap((index) => [
    `messages.${index}.typed-dict.content`,
    '  Input should be a valid string [type=string_type, input_value=None, input_type=NoneType]',
    '    For further information visit https://errors.pydantic.dev/2.11/v/string_type',
  ]);
  const message = [`${indexes.length} validation errors for CreateChatCompletionRequest`, ...problems].join('\n');
  return { status: 500, body: { error: { message, type: 'internal_server_error', param: null, code: null } } };
}

/** The 400 of a request of `tokens` past `window`, as llama-server or vLLM words it. */
function contextRefusal(server: 'llama-server' | 'vllm', tokens: number, window: number): ProfiledAnswer {
  if (server === 'llama-server') {
    return {
      status: 400,
      body: {
        error: {
          code: 400,
          message: `request (${tokens} tokens) exceeds the available context size (${window} tokens), try increasing it`,
          type: 'exceed_context_size_error',
          n_prompt_tokens: tokens,
          n_ctx: window,
        },
      },
    };
  }
  return {
    status: 400,
    body: {
      object: 'error',
      message:
        `This model's maximum context length is ${window} tokens. However, you requested ${tokens} tokens ` +
        `(${tokens} in the messages, 0 in the completion). Please reduce the length of the messages or completion.`,
      type: 'BadRequestError',
      param: null,
      code: 400,
    },
  };
}

/** What `profile` answers to a request before its script is asked: a refusal, or nothing. */
export function profiledRefusal(
  profile: ServerProfile | undefined,
  body: { messages?: ChatMessage[]; tools?: unknown },
): ProfiledAnswer | undefined {
  if (!profile) return undefined;
  const messages = body.messages ?? [];
  if (profile.refusesNullContent) {
    const nulls = messages.flatMap((message, index) =>
      message.role === 'assistant' && message.content === null ? [index] : [],
    );
    if (nulls.length) return nullContentRefusal(nulls);
  }
  if (profile.contextWindow !== undefined && profile.contextErrors) {
    const tokens = profiledTokens([messages, body.tools ?? []]);
    if (tokens > profile.contextWindow) return contextRefusal(profile.contextErrors, tokens, profile.contextWindow);
  }
  return undefined;
}

type CapFields = { max_tokens?: unknown; max_completion_tokens?: unknown };

/**
 * The cap a request's body holds an answer to, as OpenAI reads it: the smaller of `max_tokens` and
 * `max_completion_tokens` (unless the server ignores the latter), where they are numbers above 0.
 */
export function requestedCap(body: CapFields, ignoresMaxCompletionTokens = false): number | undefined {
  const caps = [body.max_tokens, ...(ignoresMaxCompletionTokens ? [] : [body.max_completion_tokens])];
  const numbers = caps.filter((cap): cap is number => typeof cap === 'number' && cap > 0);
  return numbers.length ? Math.min(...numbers) : undefined;
}

/** The cap a profiled server holds an answer to: `max_tokens`, and `max_completion_tokens` unless it ignores it. */
export function profiledCap(profile: ServerProfile | undefined, body: CapFields): number | undefined {
  return profile ? requestedCap(body, profile.ignoresMaxCompletionTokens) : undefined;
}

/** `content` as a server capped at `cap` tokens writes it (4 bytes a token), and whether it was cut. */
export function cappedContent(content: string, cap: number | undefined): { content: string; cut: boolean } {
  if (cap === undefined) return { content, cut: false };
  const bytes = Buffer.from(content);
  if (bytes.length <= cap * 4) return { content, cut: false };
  return {
    content: bytes
      .subarray(0, cap * 4)
      .toString('utf8')
      .replace(/\uFFFD$/, ''),
    cut: true,
  };
}

/** The answer to a `GET`/`POST` a profile serves besides Chat Completions (its window), if it is one. */
export function profiledRoute(
  profile: ServerProfile | undefined,
  method: string | undefined,
  path: string,
): ProfiledAnswer | undefined {
  const window = profile?.contextWindow ?? 4_096;
  switch (profile?.reportsWindow) {
    case 'llama-server':
      if (method === 'GET' && path === '/props') {
        return { status: 200, body: { default_generation_settings: { n_ctx: window }, total_slots: 1 } };
      }
      return undefined;
    case 'vllm':
      if (method === 'GET' && path === '/v1/models') {
        return {
          status: 200,
          body: { object: 'list', data: [{ id: profile.servedModel, object: 'model', max_model_len: window }] },
        };
      }
      return undefined;
    case 'ollama':
      if (method === 'POST' && path === '/api/show') {
        return {
          status: 200,
          body: {
            parameters: 'stop "<|im_end|>"',
            model_info: { 'general.architecture': 'qwen2', 'qwen2.context_length': window },
          },
        };
      }
      return undefined;
    default:
      return undefined;
  }
}

/** llama-server's answer to output it could not parse into a message or tool calls. */
export const UNPARSED_OUTPUT_ERROR = {
  code: 500,
  message: 'The model produced output that does not match the expected peg-native format',
  type: 'server_error',
} as const;

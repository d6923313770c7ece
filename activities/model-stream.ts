/**
 * Reading a streamed Chat Completions answer: its chunks, as they come, assembled into the body an
 * unstreamed request gets (message, tool calls, finish reason, usage), which `parseCompletion` then
 * checks as before. An endpoint that answers a stream request with one JSON body (some cannot stream)
 * is read as that body.
 */
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { Stream } from 'openai/core/streaming';
import { Bounds } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import { quote } from './model-response';

interface ToolCallParts {
  id?: string;
  name: string;
  arguments: string;
}

/** The answer being assembled; `text` is what the model has said so far. */
export interface StreamedAnswer {
  text: string;
}

function offSpec(message: string): ApplicationFailure {
  return withoutStack(ApplicationFailure.retryable(`model answered off-spec: ${message}`, ErrorType.ModelBadResponse));
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Assembles chunks into a completion body. Only the first choice is read, as unstreamed answers are;
 * a chunk off the chunk shape fails the call (retryably) rather than being guessed at.
 */
class CompletionAssembler implements StreamedAnswer {
  text = '';
  private sawText = false;
  private readonly toolCalls: ToolCallParts[] = [];
  private finishReason: string | null = null;
  private usage: unknown = undefined;
  private bytes = 0;

  add(chunk: unknown): boolean {
    if (!isRecord(chunk)) throw offSpec(`a stream chunk is not an object (${quote(chunk)})`);
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) throw offSpec(`a stream chunk has no choices (${quote(chunk)})`);
    const choice: unknown = chunk.choices.find((candidate) => isRecord(candidate) && (candidate.index ?? 0) === 0);
    if (choice === undefined) return false;
    if (!isRecord(choice) || (choice.delta !== undefined && !isRecord(choice.delta))) {
      throw offSpec(`a stream chunk's choice is malformed (${quote(choice)})`);
    }
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
    const delta = choice.delta ?? {};
    const before = this.text.length;
    if (typeof delta.content === 'string') {
      this.text += delta.content;
      this.sawText ||= delta.content.length > 0;
    } else if (delta.content !== undefined && delta.content !== null) {
      throw offSpec(`a stream chunk's content is not text (${quote(delta.content)})`);
    }
    if (delta.tool_calls !== undefined && delta.tool_calls !== null) this.addToolCalls(delta.tool_calls);
    this.bytes += JSON.stringify(chunk).length;
    // An endpoint that never stops would otherwise grow the worker's memory without end.
    if (this.bytes > Bounds.payloadBytes * 4) {
      throw offSpec(`the answer stream passed ${Bounds.payloadBytes * 4} bytes without ending`);
    }
    return this.text.length !== before;
  }

  private addToolCalls(deltas: unknown): void {
    if (!Array.isArray(deltas)) throw offSpec(`a stream chunk's tool_calls is not a list (${quote(deltas)})`);
    for (const delta of deltas) {
      const fn: unknown = isRecord(delta) ? (delta.function ?? {}) : undefined;
      if (!isRecord(delta) || !Number.isInteger(delta.index) || !isRecord(fn)) {
        throw offSpec(`a streamed tool call is malformed (${quote(delta)})`);
      }
      const index = delta.index as number;
      if (index < 0 || index > this.toolCalls.length) {
        throw offSpec(`a streamed tool call skips to index ${index}`);
      }
      const call = (this.toolCalls[index] ??= { name: '', arguments: '' });
      if (typeof delta.id === 'string') call.id = delta.id;
      if (typeof fn.name === 'string') call.name += fn.name;
      if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
    }
  }

  /** The body an unstreamed request would have got; an answer cut off before it finished is an error. */
  completion(): unknown {
    if (this.finishReason === null) {
      throw withoutStack(
        ApplicationFailure.retryable(
          'model call failed: the answer stream ended before the model finished',
          ErrorType.ModelUnavailable,
        ),
      );
    }
    const toolCalls = this.toolCalls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    return {
      choices: [
        {
          message: { content: this.sawText ? this.text : null, ...(toolCalls.length && { tool_calls: toolCalls }) },
          finish_reason: this.finishReason,
        },
      ],
      usage: this.usage,
    };
  }
}

/**
 * The completion body of `response`, the answer to a request with `stream: true`: its events read as
 * they arrive (`onText` hears the text so far each time it grows), or its JSON body if the endpoint
 * did not stream. Reading stops when `controller` aborts; the caller says why.
 */
export async function readCompletion(
  response: Response,
  controller: AbortController,
  openai: OpenAI,
  onText: (answer: StreamedAnswer) => void,
): Promise<unknown> {
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return response.json();
  const assembler = new CompletionAssembler();
  for await (const chunk of Stream.fromSSEResponse<unknown>(response, controller, openai)) {
    if (assembler.add(chunk)) onText(assembler);
  }
  // The SDK's stream ends quietly when aborted: what is read so far is no answer.
  if (controller.signal.aborted) throw controller.signal.reason;
  return assembler.completion();
}

/**
 * Whether a worker asks for streamed answers: unless configured not to, and not of a model whose
 * endpoint refused a stream request, which is asked unstreamed from then on.
 */
export class StreamingChoice {
  private readonly refusedBy = new Set<string>();

  constructor(private readonly enabled: boolean) {}

  streams(model: string): boolean {
    return this.enabled && !this.refusedBy.has(model);
  }

  /**
   * Whether `error`, the answer to a stream request, may be the endpoint refusing to stream: a 400 or
   * 422. Its message cannot tell: endpoints whose error body is not OpenAI's shape reach the SDK as
   * "400 status code (no body)". The same request unstreamed tells (`refused` if it is answered).
   */
  mayBeRefusal(error: unknown): boolean {
    return error instanceof OpenAI.APIError && (error.status === 400 || error.status === 422);
  }

  /** `model`'s endpoint refused a stream request and answered the same request unstreamed. */
  refused(model: string): void {
    this.refusedBy.add(model);
  }
}

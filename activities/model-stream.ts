/**
 * Reading a streamed Chat Completions answer: its chunks, as they come, assembled into the body an
 * unstreamed request gets (message, tool calls, finish reason, usage), which `parseCompletion` then
 * checks as before. An endpoint that answers a stream request with one JSON body (some cannot stream)
 * is read as that body.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { Stream } from 'openai/core/streaming';
import { Bounds } from '../src/defaults';
import { ErrorType } from '../src/errors';
import { withoutStack } from '../src/failures';
import { LIVE_TEXT_MAX_BYTES } from '../src/live-answer';
import { truncateUtf8, utf8Bytes } from '../src/validation';
import { answerTooLarge } from './bounded-body';
import { contextExceeded, cutConnection, isCutConnection } from './model-errors';
import { describeValue } from './model-response';

/** The longest a stream is read without letting the worker's other work run (timers, heartbeats, other calls). */
const BUSY_MS = 20;

/**
 * The largest piece of a stream handed to the SDK's event splitter, which copies what is left of the
 * piece after each event it finds: in one 11 MB piece, 75,000 events cost minutes; in pieces of this
 * size, a copy of a few KB each.
 */
const PIECE_BYTES = 4_096;

/** `response` with its body cut into pieces of at most `PIECE_BYTES`. */
function inPieces(response: Response): Response {
  const pieces = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      for (let at = 0; at < chunk.byteLength; at += PIECE_BYTES) {
        controller.enqueue(chunk.subarray(at, at + PIECE_BYTES));
      }
    },
  });
  return new Response(response.body!.pipeThrough(pieces), { status: response.status, headers: response.headers });
}

interface ToolCallParts {
  id?: string;
  name: string;
  arguments: string;
}

/** The answer being assembled: what the model has said so far. */
export interface StreamedAnswer {
  readonly text: string;
  /** The UTF-8 bytes of `text`, counted as it came. */
  readonly textBytes: number;
  /**
   * `text`, or once it passed `LIVE_TEXT_MAX_BYTES`, its first `LIVE_TEXT_MAX_BYTES` (cut once, then
   * kept): what a heartbeat carries, at a cost that does not grow with the answer.
   */
  liveText(): string;
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
  textBytes = 0;
  /** The text in pieces, joined only when read: per chunk, assembling costs the chunk, not the answer. */
  private pieces: string[] = [];
  private frozenLiveText: string | undefined;
  private sawText = false;
  private readonly toolCalls: ToolCallParts[] = [];
  private toolCallBytes = 0;
  private finishReason: string | null = null;
  private usage: unknown = undefined;

  get text(): string {
    if (this.pieces.length > 1) this.pieces = [this.pieces.join('')];
    return this.pieces[0] ?? '';
  }

  liveText(): string {
    if (this.textBytes <= LIVE_TEXT_MAX_BYTES) return this.text;
    return (this.frozenLiveText ??= truncateUtf8(this.text, LIVE_TEXT_MAX_BYTES));
  }

  add(chunk: unknown): boolean {
    if (!isRecord(chunk)) throw offSpec(`a stream chunk is not an object (${describeValue(chunk)})`);
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) throw offSpec(`a stream chunk has no choices (${describeValue(chunk)})`);
    const choice: unknown = chunk.choices.find((candidate) => isRecord(candidate) && (candidate.index ?? 0) === 0);
    if (choice === undefined) return false;
    if (!isRecord(choice) || (choice.delta !== undefined && !isRecord(choice.delta))) {
      throw offSpec(`a stream chunk's choice is malformed (${describeValue(choice)})`);
    }
    if (typeof choice.finish_reason === 'string') this.finishReason = choice.finish_reason;
    const delta = choice.delta ?? {};
    let grew = false;
    if (typeof delta.content === 'string') {
      grew = delta.content.length > 0;
      if (grew) this.addText(delta.content);
    } else if (delta.content !== undefined && delta.content !== null) {
      throw offSpec(`a stream chunk's content is not text (${describeValue(delta.content)})`);
    }
    if (delta.tool_calls !== undefined && delta.tool_calls !== null) this.addToolCalls(delta.tool_calls);
    return grew;
  }

  private addText(text: string): void {
    this.pieces.push(text);
    this.sawText = true;
    this.textBytes += utf8Bytes(text);
    this.checkSize();
  }

  /** The answer is bounded as an unstreamed one is: whatever came is more than a call's result may hold. */
  private checkSize(): void {
    if (this.textBytes + this.toolCallBytes > Bounds.payloadBytes) {
      throw answerTooLarge('the streamed answer', Bounds.payloadBytes);
    }
  }

  private addToolCalls(deltas: unknown): void {
    if (!Array.isArray(deltas)) throw offSpec(`a stream chunk's tool_calls is not a list (${describeValue(deltas)})`);
    for (const delta of deltas) {
      const fn: unknown = isRecord(delta) ? (delta.function ?? {}) : undefined;
      if (!isRecord(delta) || !Number.isInteger(delta.index) || !isRecord(fn)) {
        throw offSpec(`a streamed tool call is malformed (${describeValue(delta)})`);
      }
      const index = delta.index as number;
      if (index < 0 || index > this.toolCalls.length) {
        throw offSpec(`a streamed tool call skips to index ${index}`);
      }
      const call = (this.toolCalls[index] ??= { name: '', arguments: '' });
      if (typeof delta.id === 'string') call.id = delta.id;
      if (typeof fn.name === 'string') call.name += fn.name;
      if (typeof fn.arguments === 'string') call.arguments += fn.arguments;
      for (const part of [delta.id, fn.name, fn.arguments]) {
        if (typeof part === 'string') this.toolCallBytes += utf8Bytes(part);
      }
    }
    this.checkSize();
  }

  /**
   * The body an unstreamed request would have got; an answer cut off before it finished is an error,
   * unless the reader stopped it (`overran`: it passed its cap), which finished for `length`.
   */
  completion(overran = false): unknown {
    if (overran) this.finishReason = 'length';
    if (this.finishReason === null) throw cutConnection();
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
      ...(overran && { overranCap: true }),
    };
  }
}

/**
 * The completion body of `response`, the answer to a request with `stream: true`: its events read as
 * they arrive (`onText` hears the text so far each time it grows), or its JSON body if the endpoint
 * did not stream. Reading stops when `controller` aborts; the caller says why. With `stopAtTextBytes`
 * (an answer capped by an endpoint that may ignore the cap), reading stops once the text passes it:
 * the body then says `overranCap`, its finish reason `length`, and the request is closed, which stops
 * the server generating.
 */
export async function readCompletion(
  response: Response,
  controller: AbortController,
  openai: OpenAI,
  onText: (answer: StreamedAnswer) => void,
  { stopAtTextBytes = Infinity }: { stopAtTextBytes?: number } = {},
): Promise<unknown> {
  if (!response.headers.get('content-type')?.includes('text/event-stream')) return response.json();
  const assembler = new CompletionAssembler();
  let busySince = performance.now();
  let overran = false;
  try {
    for await (const chunk of Stream.fromSSEResponse<unknown>(inPieces(response), controller, openai)) {
      if (assembler.add(chunk)) onText(assembler);
      if (assembler.textBytes > stopAtTextBytes) {
        overran = true;
        break;
      }
      // Chunks already received are read without a pause otherwise: one long answer would hold up
      // every other call on this worker, whose heartbeats would stop.
      if (performance.now() - busySince > BUSY_MS) {
        await nextTurn();
        busySince = performance.now();
      }
    }
  } catch (error) {
    // The body broke off under the reader (undici's `terminated`): said as an unstreamed answer's would be.
    if (!controller.signal.aborted && isCutConnection(error)) throw cutConnection();
    throw error;
  }
  // The SDK's stream ends quietly when aborted: what is read so far is no answer (unless this stopped it).
  if (!overran && controller.signal.aborted) throw controller.signal.reason;
  return assembler.completion(overran);
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
   * "400 status code (no body)". The same request unstreamed tells (`refused` if it is answered). A
   * 400 that says the request passed the context window is no refusal to stream: it would be refused alike.
   */
  mayBeRefusal(error: unknown): boolean {
    if (!(error instanceof OpenAI.APIError) || (error.status !== 400 && error.status !== 422)) return false;
    const body =
      typeof error.error === 'object' && error.error !== null ? (error.error as Record<string, unknown>) : {};
    return !contextExceeded(body, typeof body.message === 'string' ? body.message : error.message);
  }

  /** `model`'s endpoint refused a stream request and answered the same request unstreamed. */
  refused(model: string): void {
    this.refusedBy.add(model);
  }
}

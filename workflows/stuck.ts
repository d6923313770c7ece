/**
 * Notices a model going round in circles: the same tool call with the same arguments answer after
 * answer, or answers whose tool calls only bring back results the model has already read.
 */
import { hashText } from '../src/hash';
import type { ToolCall } from '../src/types';
import { truncateUtf8, utf8Bytes } from '../src/validation';

/**
 * What the model repeats: `description` for the run's result (the calls as JSON, for whoever reads
 * why it stopped), and what the model is told in words (guidance.ts): the kind, the tools, how often.
 */
export interface Repetition {
  description: string;
  kind: 'call' | 'results';
  tools: string[];
  times: number;
}

/** JSON with object keys sorted, so `{"a":1,"b":2}` and `{"b":2,"a":1}` are the same arguments. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The call's identity: its tool and its arguments as JSON with keys sorted (as written, if not JSON). */
function signature(call: ToolCall): string {
  let args: string;
  try {
    args = canonicalJson(JSON.parse(call.function.arguments || '{}'));
  } catch {
    args = call.function.arguments;
  }
  return `${call.function.name} ${args}`;
}

/** A bounded quote of a call signature: the arguments are the model's and may be large. */
function quote(text: string): string {
  return utf8Bytes(text) > 200 ? `${truncateUtf8(text, 200)}...` : text;
}

/** What a guard has seen, as plain JSON: a turn that continues as new hands it to its continuation. */
export interface GuardMemory {
  streaks: [string, number][];
  seenResults: string[];
  staleAnswers: number;
}

/** Watches one turn's answers; `maxRepeats` in a row is a repetition. */
export class RepetitionGuard {
  /** How many answers in a row (up to the last) made each call, by signature. */
  private streaks: Map<string, number>;
  /** Hashes of the results the model has read. */
  private readonly seenResults: Set<string>;
  /** Answers in a row whose results were all already seen. */
  private staleAnswers: number;

  constructor(
    private readonly maxRepeats: number,
    memory?: GuardMemory,
  ) {
    this.streaks = new Map(memory?.streaks);
    this.seenResults = new Set(memory?.seenResults);
    this.staleAnswers = memory?.staleAnswers ?? 0;
  }

  memory(): GuardMemory {
    return { streaks: [...this.streaks], seenResults: [...this.seenResults], staleAnswers: this.staleAnswers };
  }

  /** Records an answer's tool calls; the call repeated `maxRepeats` times in a row, if any. */
  observeCalls(calls: ToolCall[]): Repetition | undefined {
    const streaks = new Map<string, number>();
    for (const call of calls) {
      const key = signature(call);
      streaks.set(key, (streaks.get(key) ?? this.streaks.get(key) ?? 0) + 1);
    }
    this.streaks = streaks;
    for (const [key, count] of streaks) {
      if (count >= this.maxRepeats) {
        const tool = calls.find((call) => signature(call) === key)!.function.name;
        return {
          description: `the tool call ${quote(key)} ${count} times in a row`,
          kind: 'call',
          tools: [tool],
          times: count,
        };
      }
    }
    return undefined;
  }

  /** Records what an answer's calls returned; a repetition if `maxRepeats` answers in a row brought nothing new. */
  observeResults(calls: ToolCall[], results: string[]): Repetition | undefined {
    const hashes = results.map(hashText);
    const nothingNew = hashes.length > 0 && hashes.every((value) => this.seenResults.has(value));
    for (const value of hashes) this.seenResults.add(value);
    this.staleAnswers = nothingNew ? this.staleAnswers + 1 : 0;
    if (this.staleAnswers < this.maxRepeats) return undefined;
    const shown = calls.map((call) => quote(signature(call))).join('; ');
    return {
      description: `tool calls that returned only results it had already read, ${this.staleAnswers} answers in a row (last: ${shown})`,
      kind: 'results',
      tools: [...new Set(calls.map((call) => call.function.name))],
      times: this.staleAnswers,
    };
  }
}

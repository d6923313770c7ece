/**
 * Structured output: an agent's `output` schema as the JSON Schema a run records in its spec (and
 * sends with each model call), and the check of an answer against that recorded schema.
 *
 * The check runs in the workflow, on the recorded JSON Schema (read back with zod's `fromJSONSchema`):
 * replay validates against exactly what the run recorded, whatever the worker's agent definition says
 * now, and costs no activity (no history events, no round trip) per answer. The model is held to the
 * schema it was sent; refinements JSON Schema cannot express (`.refine`) are not part of it.
 */
import { z } from 'zod';
import { Bounds, DEFAULT_MAX_OUTPUT_REPAIRS } from './defaults';
import { OutputMode, type Limits, type OutputSpec, type StructuredOutput } from './types';
import { serializedBytes, truncateUtf8 } from './validation';

/** The name of the final tool through which an agent answers where `response_format` is not taken. */
export const ANSWER_TOOL_NAME = 'answer';

/** Problems listed to the model (and in `OutputInvalid`) at most, and the bytes that list may take. */
const LISTED_PROBLEMS = 5;
const PROBLEMS_BYTES = 2_048;

/** Whether `value` is a zod object schema (of any zod copy): the only root an answer may have. */
export function isZodObject(value: unknown): value is z.ZodObject {
  return (value as { _zod?: { def?: { type?: unknown } } } | null)?._zod?.def?.type === 'object';
}

/**
 * The JSON Schema of an agent's `output`, as runs record and send it; throws (a message for the
 * agent's author) when the schema cannot be exported or is too large to send with every call.
 */
export function outputJsonSchema(schema: z.ZodObject): Record<string, unknown> {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, { io: 'output' });
  const bytes = serializedBytes(json);
  if (bytes > Bounds.outputSchemaBytes) {
    throw new Error(`its JSON Schema is ${bytes} bytes, over the ${Bounds.outputSchemaBytes}-byte bound`);
  }
  return json;
}

/**
 * Whether OpenAI's strict mode takes `schema`: every object closed (`additionalProperties: false`)
 * with all its properties required. Other schemas are sent with `strict: false` (still checked here).
 */
function strictCompatible(schema: unknown): boolean {
  if (Array.isArray(schema)) return schema.every(strictCompatible);
  if (schema === null || typeof schema !== 'object') return true;
  const node = schema as Record<string, unknown>;
  if (node.type === 'object') {
    const properties = Object.keys((node.properties as object | undefined) ?? {});
    const required = (node.required as unknown[] | undefined) ?? [];
    if (node.additionalProperties !== false || properties.some((name) => !required.includes(name))) return false;
  }
  return Object.values(node).every(strictCompatible);
}

/** The spec's record of an agent's output schema; `responseFormat`: whether its models take `json_schema`. */
export function outputSpecOf(agentName: string, schema: z.ZodObject, responseFormat: boolean): OutputSpec {
  const json = outputJsonSchema(schema);
  return {
    // OpenAI's `json_schema.name`: letters, digits, `_` and `-`, 64 at most.
    name: agentName.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64),
    schema: json,
    strict: strictCompatible(json),
    mode: responseFormat ? OutputMode.responseFormat : OutputMode.answerTool,
  };
}

/** Times a run with `limits` sends an answer back to be repaired. */
export function outputRepairsAllowed(limits: Limits): number {
  return limits.maxOutputRepairs ?? DEFAULT_MAX_OUTPUT_REPAIRS;
}

/** An answer checked against the schema: its object, or what is wrong with it (paths and rules, never its text). */
export type CheckedAnswer = { ok: true; output: StructuredOutput } | { ok: false; problems: string };

/** Text a model wrapped in a Markdown code fence (```json … ```), without the fence. */
function unfenced(text: string): string {
  const fenced = /^```[a-zA-Z]*\s*\n([\s\S]*?)\n?```$/.exec(text.trim());
  return fenced ? fenced[1] : text;
}

/** The problems of a failed check as one bounded line. */
function listProblems(error: z.ZodError): string {
  const listed = error.issues
    .slice(0, LISTED_PROBLEMS)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(answer)'}: ${issue.message}`);
  if (error.issues.length > LISTED_PROBLEMS) listed.push(`and ${error.issues.length - LISTED_PROBLEMS} more`);
  return truncateUtf8(listed.join('; '), PROBLEMS_BYTES);
}

/** Checks answers against one recorded output schema (the zod form of it built once). */
export class OutputChecker {
  private readonly schema: z.ZodType;

  constructor(readonly spec: OutputSpec) {
    this.schema = z.fromJSONSchema(spec.schema as Parameters<typeof z.fromJSONSchema>[0]);
  }

  /** `text` (JSON, perhaps fenced) parsed and checked. */
  check(text: string): CheckedAnswer {
    let value: unknown;
    try {
      value = JSON.parse(unfenced(text));
    } catch {
      return { ok: false, problems: '(answer): not valid JSON' };
    }
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) return { ok: false, problems: listProblems(parsed.error) };
    if (parsed.data === null || typeof parsed.data !== 'object' || Array.isArray(parsed.data)) {
      return { ok: false, problems: '(answer): expected a JSON object' };
    }
    return { ok: true, output: parsed.data as StructuredOutput };
  }
}

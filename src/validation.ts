/**
 * zod helpers shared by every module that checks outside values: workflow input, messages, env,
 * price tables and definitions all describe their problems the same way.
 */
import { z } from 'zod';
import { ConfigError } from './errors';

/** One line per problem, each naming the field (`limits.maxSteps: ...`). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

/** UTF-8 length of `text` in bytes, counted without `Buffer` or `TextEncoder` so workflow code can use it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        index++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Bytes of `value` once serialized as JSON, as it travels in a Temporal payload. */
export function serializedBytes(value: unknown): number {
  return utf8Bytes(JSON.stringify(value) ?? 'null');
}

/** The longest prefix of `text` of at most `maxBytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    const pair = code >= 0xd800 && code <= 0xdbff && end + 1 < text.length;
    const width = pair ? 2 : 1;
    const size = utf8Bytes(text.slice(end, end + width));
    if (bytes + size > maxBytes) break;
    bytes += size;
    end += width;
  }
  return text.slice(0, end);
}

/** A string whose JSON form is at most `maxBytes` UTF-8 bytes (control characters count as escaped). */
export function boundedString(maxBytes: number) {
  return z.string().superRefine((text, context) => {
    const bytes = serializedBytes(text);
    if (bytes > maxBytes)
      context.addIssue({ code: 'custom', message: `must be at most ${maxBytes} bytes (is ${bytes})` });
  });
}

/** The JSON value of env `variable` (`raw`) checked against `schema`; a `ConfigError` naming the variable if not. */
export function parseJsonVariable<T extends z.ZodType>(variable: string, raw: string, schema: T): z.output<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`${variable} is not JSON: ${(error as Error).message}`);
  }
  const result = schema.safeParse(parsed);
  if (!result.success) throw new ConfigError(`${variable}: ${describeIssues(result.error)}`);
  return result.data;
}

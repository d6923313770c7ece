/**
 * The worker program's log: one line per entry, a failed model attempt as one line that says which
 * attempt, step and model failed and why, and no activity task tokens. Temporal's own format spreads
 * each failed attempt over two dozen lines, task token included. With `LOG_FORMAT=json`, each entry
 * is one JSON object instead, for log shippers: the same entries, the same fields.
 */
import { inspect } from 'node:util';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import type { ActivityInterceptorsFactory, LogEntry, LogLevel } from '@temporalio/worker';
import { DefaultLogger } from '@temporalio/worker';
import { LogFormat } from '../src/config';
import { oneLine } from '../activities/model-errors';
import { ConfigError } from '../src/errors';
import { utf8Bytes } from '../src/validation';
import { stepOfCall } from './genai-spans';

const LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** The worker's log level from `WORKER_LOG_LEVEL` (any case; `INFO` when unset). */
export function workerLogLevel(env: Record<string, string | undefined> = process.env): LogLevel {
  const value = env.WORKER_LOG_LEVEL?.trim().toUpperCase();
  if (!value) return 'INFO';
  if (!LEVELS.includes(value as LogLevel)) {
    throw new ConfigError(`invalid environment: WORKER_LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  }
  return value as LogLevel;
}

/** What an activity's first argument says about the call, as log attributes (see `callLogAttributes`). */
const CALL_FIELDS = ['agent', 'model', 'step', 'tool', 'callId'] as const;

/**
 * Adds to every log entry of an activity (the SDK's own "Activity failed" included) its retry
 * policy's `maxAttempts`, what its input names (agent, model and step of a model call; tool, call id
 * and step of a tool call) and, when tracing is on, the trace and span ids of the attempt's span,
 * taken when the attempt starts, inside the span: the SDK logs an attempt's end outside it.
 */
export const callLogAttributes: ActivityInterceptorsFactory = (context) => {
  const attributes: Record<string, unknown> = {};
  const maxAttempts = context.info.retryPolicy?.maximumAttempts;
  if (maxAttempts) attributes.maxAttempts = maxAttempts;
  return {
    inbound: {
      execute(input, next) {
        const [first] = input.args;
        if (first && typeof first === 'object') {
          for (const field of CALL_FIELDS) {
            const value = (first as Record<string, unknown>)[field];
            if (typeof value === 'string' || typeof value === 'number') attributes[field] = value;
          }
        }
        if (attributes.step === undefined && typeof attributes.callId === 'string') {
          const step = stepOfCall(attributes.callId);
          if (step !== undefined) attributes.step = step;
        }
        const span = trace.getActiveSpan()?.spanContext();
        if (span && isSpanContextValid(span))
          Object.assign(attributes, { trace_id: span.traceId, span_id: span.spanId });
        return next(input);
      },
    },
    outbound: {
      getLogAttributes: (input, next) => next({ ...input, ...attributes }),
    },
  };
};

/** Never printed: a task token lets whoever holds it complete the activity. */
const HIDDEN = new Set(['taskToken']);

/**
 * A tool's error, with its words withheld: they are written for the model, or are whatever the tool
 * threw, and may quote what the run was told (a card number given as an order id). A worker whose
 * payloads are encrypted logs the error's kind, size and stack frames only.
 */
function withheld(error: unknown): unknown {
  if (!(error instanceof Error)) return `(${utf8Bytes(String(error))} bytes withheld: payloads are encrypted)`;
  const sealed = new Error(`(${utf8Bytes(error.message)} bytes withheld: payloads are encrypted)`);
  sealed.name = error.name;
  Object.assign(sealed, { type: (error as { type?: unknown }).type });
  const frames = error.stack?.split('\n').filter((line) => line.startsWith('    at '));
  sealed.stack = [`${sealed.name}: ${sealed.message}`, ...(frames ?? [])].join('\n');
  return sealed;
}

/** An entry's fields, a tool's error withheld when `sealed`. */
function shownFields(entry: LogEntry, sealed: boolean): Record<string, unknown> {
  const meta = shownMeta(entry);
  const ofTool = meta.activityType === 'runTool' || meta.tool !== undefined;
  return sealed && ofTool && 'error' in meta ? { ...meta, error: withheld(meta.error) } : meta;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `attempt 2/5`, or `attempt 2` when attempts are unlimited. */
function attemptOf(meta: Record<string, unknown>): string {
  return meta.maxAttempts
    ? `attempt ${String(meta.attempt)}/${String(meta.maxAttempts)}`
    : `attempt ${String(meta.attempt)}`;
}

/** An activity attempt's failure, in one line: what failed, where, and the failure's message (never its stack). */
function activityFailure(meta: Record<string, unknown>): string {
  const where = [attemptOf(meta)];
  if (meta.activityType === 'callModel') {
    if (meta.step !== undefined) where.push(`step ${String(meta.step)}`);
    if (meta.model !== undefined) where.push(String(meta.model));
  } else {
    if (meta.tool !== undefined) where.push(`tool ${String(meta.tool)}`);
    if (meta.callId !== undefined) where.push(`call ${String(meta.callId)}`);
  }
  if (meta.workflowId !== undefined) where.push(`workflow ${String(meta.workflowId)}`);
  const what = meta.activityType === 'callModel' ? 'model call' : `activity ${String(meta.activityType)}`;
  // One line whatever the failure says: a provider's multi-line body is folded, a long one cut with its size.
  return `${what} failed (${where.join(', ')}): ${oneLine(errorMessage(meta.error))}`;
}

function timeOf(entry: LogEntry): string {
  return new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
}

function shownMeta(entry: LogEntry): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry.meta ?? {}).filter(([key]) => !HIDDEN.has(key)));
}

/** One log entry as the worker prints it (without the trailing newline); `sealed`: tools' errors withheld. */
export function formatLogEntry(entry: LogEntry, sealed = false): string {
  const time = timeOf(entry);
  const meta = shownFields(entry, sealed);
  if (entry.message === 'Activity failed' && meta.activityType !== undefined && 'error' in meta) {
    return `${time} [${entry.level}] ${activityFailure(meta)}`;
  }
  // Errors keep their stacks (a tool's unexpected exception is logged for its stack); the rest is one line.
  const rest = Object.keys(meta).length ? ` ${inspect(meta, { breakLength: Infinity, depth: 4 })}` : '';
  return `${time} [${entry.level}] ${entry.message}${rest}`;
}

/**
 * What JSON cannot say as it is: an error as its class, failure type and message, and its stack
 * (which the text format prints too); a bigint as digits; an object met a second time as a mark
 * (a cycle would make JSON throw).
 */
function jsonReplacer(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error) {
      const { type } = value as { type?: unknown };
      return {
        name: value.name,
        ...(typeof type === 'string' && { type }),
        message: value.message,
        stack: value.stack,
      };
    }
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value;
  };
}

/**
 * One log entry as one JSON object (without the trailing newline): `time`, `level`, `message`, then
 * the entry's fields (run, step or call, trace ids, error), which never override those three.
 */
export function formatLogEntryJson(entry: LogEntry, sealed = false): string {
  const { time: _time, level: _level, message: _message, ...meta } = shownFields(entry, sealed);
  return JSON.stringify({ time: timeOf(entry), level: entry.level, message: entry.message, ...meta }, jsonReplacer());
}

/**
 * The worker program's logger (for `Runtime.install`), writing to stderr in `format` (text unless
 * told); `sealed` (payloads are encrypted): tools' errors are logged without their words.
 */
export function createWorkerLogger(
  level: LogLevel,
  format: LogFormat = LogFormat.text,
  {
    sealed = false,
    write = (line) => process.stderr.write(line),
  }: { sealed?: boolean; write?: (line: string) => void } = {},
): DefaultLogger {
  const formatted = format === LogFormat.json ? formatLogEntryJson : formatLogEntry;
  return new DefaultLogger(level, (entry) => {
    if (!BY_DESIGN.has(entry.message)) write(`${formatted(entry, sealed)}\n`);
  });
}

/**
 * What the SDK says of a worker made so on purpose: a model or tools worker (a role, or the queues of
 * role `all`) registers no workflows, and none registers Nexus services. Not warnings of this program.
 */
const BY_DESIGN = new Set([
  'No workflows registered, not polling for workflow tasks',
  'No Nexus services registered, not polling for Nexus tasks',
]);

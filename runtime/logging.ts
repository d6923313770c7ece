/**
 * The worker program's log: one line per entry, a failed model attempt as one line that says which
 * attempt, step and model failed and why, and no activity task tokens. Temporal's own format spreads
 * each failed attempt over two dozen lines, task token included.
 */
import { inspect } from 'node:util';
import type { ActivityInterceptorsFactory, LogEntry, LogLevel } from '@temporalio/worker';
import { DefaultLogger } from '@temporalio/worker';
import { ConfigError } from '../src/errors';

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
 * policy's `maxAttempts` and what its input names: agent, model and step of a model call; tool and
 * call id of a tool call.
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
  return `${what} failed (${where.join(', ')}): ${errorMessage(meta.error)}`;
}

/** One log entry as the worker prints it (without the trailing newline). */
export function formatLogEntry(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = Object.fromEntries(Object.entries(entry.meta ?? {}).filter(([key]) => !HIDDEN.has(key)));
  if (entry.message === 'Activity failed' && meta.activityType !== undefined && 'error' in meta) {
    return `${time} [${entry.level}] ${activityFailure(meta)}`;
  }
  // Errors keep their stacks (a tool's unexpected exception is logged for its stack); the rest is one line.
  const rest = Object.keys(meta).length ? ` ${inspect(meta, { breakLength: Infinity, depth: 4 })}` : '';
  return `${time} [${entry.level}] ${entry.message}${rest}`;
}

/** The worker program's logger (for `Runtime.install`), writing to stderr. */
export function createWorkerLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): DefaultLogger {
  return new DefaultLogger(level, (entry) => write(`${formatLogEntry(entry)}\n`));
}

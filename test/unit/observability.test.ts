/**
 * The worker's observability settings: `LOG_FORMAT` and `OTEL_EXPORTER_OTLP_ENDPOINT` are checked
 * like every other variable, and the JSON log prints one object a line with the entry's fields.
 */
import { TRACE_HEADER as INSTRUMENTATION_TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { createWorkerLogger, formatLogEntry, formatLogEntryJson } from '../../runtime/logging';
import { loadTemporalConfig, loadWorkerConfig } from '../../src/config';
import { TRACE_HEADER } from '../../workflows/tracing-interceptors';

const timestampNanos = BigInt(Date.UTC(2025, 0, 1, 12)) * 1_000_000n;

describe('the observability settings', () => {
  it('turn tracing on only with a valid OTEL_EXPORTER_OTLP_ENDPOINT, for clients and workers alike', () => {
    expect(loadTemporalConfig({}).OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    expect(loadTemporalConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
    });
    expect(loadWorkerConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://api.honeycomb.io' })).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'https://api.honeycomb.io',
    });
    expect(() => loadWorkerConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it("tell a traced run by the header Temporal's OpenTelemetry interceptors write", () => {
    // The workflow interceptors read it without importing the interceptors' modules (tracing-interceptors.ts).
    expect(TRACE_HEADER).toBe(INSTRUMENTATION_TRACE_HEADER);
  });

  it('read LOG_FORMAT as text or json', () => {
    expect(loadWorkerConfig({}).LOG_FORMAT).toBe('text');
    expect(loadWorkerConfig({ LOG_FORMAT: 'json' }).LOG_FORMAT).toBe('json');
    expect(() => loadWorkerConfig({ LOG_FORMAT: 'yaml' })).toThrow(/LOG_FORMAT/);
  });
});

describe('the JSON log', () => {
  it('prints time, level and message first, then the fields, never the task token', () => {
    const line = formatLogEntryJson({
      level: 'DEBUG',
      message: 'Activity completed',
      timestampNanos,
      meta: {
        taskToken: 'secret-token',
        workflowId: 'helpdesk-1',
        workflowRunId: 'run-1',
        step: 2,
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b7ad6b7169203331',
        message: 'not this one',
      },
    });
    expect(Object.keys(JSON.parse(line)).slice(0, 3)).toEqual(['time', 'level', 'message']);
    expect(JSON.parse(line)).toEqual({
      time: '2025-01-01T12:00:00.000Z',
      level: 'DEBUG',
      message: 'Activity completed',
      workflowId: 'helpdesk-1',
      workflowRunId: 'run-1',
      step: 2,
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
    });
  });

  it('says what an error is, and survives values JSON cannot hold', () => {
    const error = Object.assign(new Error('rate limited'), { type: 'ModelRateLimited', stack: 'Error: rate limited' });
    const cycle: Record<string, unknown> = { name: 'cycle' };
    cycle.self = cycle;
    const entry = JSON.parse(
      formatLogEntryJson({
        level: 'WARN',
        message: 'Activity failed',
        timestampNanos,
        meta: { error, bytes: 5n, cycle },
      }),
    );
    expect(entry).toMatchObject({
      error: { name: 'Error', type: 'ModelRateLimited', message: 'rate limited', stack: 'Error: rate limited' },
      bytes: '5',
      cycle: { name: 'cycle', self: '[Circular]' },
    });
  });

  it("withholds the words of a tool's error when payloads are encrypted, in both formats", () => {
    const error = Object.assign(new Error('There is no order 4111111111111111.'), {
      type: 'ToolError',
      stack: 'Error: There is no order 4111111111111111.\n    at lookup (agent.ts:62:13)',
    });
    const entry = {
      level: 'WARN' as const,
      message: 'Activity failed',
      timestampNanos,
      meta: { activityType: 'runTool', tool: 'lookup_order', attempt: 1, error },
    };
    for (const sealed of [formatLogEntry(entry, true), formatLogEntryJson(entry, true)]) {
      expect(sealed).not.toContain('4111');
      expect(sealed).toContain('35 bytes withheld: payloads are encrypted');
    }
    expect(JSON.parse(formatLogEntryJson(entry, true)).error).toMatchObject({
      type: 'ToolError',
      stack: expect.stringContaining('at lookup (agent.ts:62:13)'),
    });
    expect(formatLogEntry(entry)).toContain('There is no order 4111111111111111.');
  });

  it('is one line per entry from the worker logger in json format', () => {
    const lines: string[] = [];
    const logger = createWorkerLogger('INFO', 'json', { write: (line) => lines.push(line) });
    logger.info('worker: polling', { taskQueue: 'agents' });
    logger.debug('not shown');
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({ level: 'INFO', message: 'worker: polling', taskQueue: 'agents' });
  });
});

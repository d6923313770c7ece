/**
 * The worker's half of a run's trace, when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: a `RunActivity`
 * span per activity attempt (a child of the workflow's `StartActivity`, whose context came in the
 * activity's headers), a GenAI span inside it per model or tool call (runtime/genai-spans.ts), and
 * the sink through which the workflow's own spans (workflows/tracing-interceptors.ts) are exported.
 *
 * Why nothing is sent twice: the worker does not call the sink while it replays a history, so a run
 * that moves to another worker, or leaves the cache, does not send its earlier workflow spans again;
 * and an activity's spans end, and are sent, only when its attempt ends, so an attempt cut short by a
 * crash sends none, and its retry sends its own.
 */
import { createTraceState, type Attributes } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { OpenTelemetryActivityInboundInterceptor } from '@temporalio/interceptors-opentelemetry/lib/worker';
import type {
  OpenTelemetrySinks,
  SerializableSpan,
} from '@temporalio/interceptors-opentelemetry/lib/workflow/definitions';
import type { ActivityInterceptorsFactory, InjectedSinks } from '@temporalio/worker';
import type { WorkflowInfo } from '@temporalio/workflow';
import type { WorkerConfig } from '../src/config';
import { useTracing, type Tracing } from '../src/tracing';
import { genAiSpans, SpanAttribute } from './genai-spans';

export interface WorkerTracing {
  /** The attempt's span: the outermost activity interceptor, so what runs inside it is its child. */
  attemptSpans: ActivityInterceptorsFactory[];
  /** The model and tool calls' spans, inside the attempt's. */
  callSpans: ActivityInterceptorsFactory[];
  sinks: InjectedSinks<OpenTelemetrySinks>;
}

/**
 * A workflow span as the exporter takes it. The run's ids are added; the rest of `WorkflowInfo`
 * (which Temporal's own sink copies into every span) stays out: its memo, search attributes and last
 * failure are no span's business.
 */
function readableSpan(
  { spanContext: { traceState, ...spanContext }, attributes, ...span }: SerializableSpan,
  info: WorkflowInfo,
  resource: Tracing['resource'],
): ReadableSpan {
  const context = { ...spanContext, traceState: traceState === undefined ? undefined : createTraceState(traceState) };
  const run: Attributes = { [SpanAttribute.workflowId]: info.workflowId, [SpanAttribute.runId]: info.runId };
  return { ...span, attributes: { ...attributes, ...run }, resource, spanContext: () => context };
}

/** The sink the workflow interceptors send their ended spans to (never called during replay). */
function workflowSpanSink({ spanProcessor, resource }: Tracing): InjectedSinks<OpenTelemetrySinks> {
  return {
    exporter: {
      export: { fn: (info, spans) => spans.forEach((span) => spanProcessor.onEnd(readableSpan(span, info, resource))) },
    },
  };
}

/**
 * Every workflow bundle has the tracing interceptors, so a worker without tracing (or a replayer)
 * still takes their spans, and drops them: an unregistered sink would log an error on every task.
 */
export const DROPPED_SPANS: InjectedSinks<OpenTelemetrySinks> = { exporter: { export: { fn: () => undefined } } };

/** The worker's tracing interceptors and sinks: none but the sink that drops spans when tracing is off. */
export async function workerTracing(config: Pick<WorkerConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT'>): Promise<WorkerTracing> {
  const tracing = await useTracing(config.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!tracing) return { attemptSpans: [], callSpans: [], sinks: DROPPED_SPANS };
  const { tracer } = tracing;
  return {
    attemptSpans: [(context) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(context, { tracer }) })],
    callSpans: [genAiSpans(tracer)],
    sinks: workflowSpanSink(tracing),
  };
}

/**
 * The client's half of a run's trace: starting a run (and signalling, updating or querying it) is a
 * span whose context travels to the workflow in the call's headers, so the run's spans on the
 * workers are its children: one trace per run, from the client's start to the result.
 */
import type { ClientInterceptors, WorkflowClientInterceptor } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry/lib/client';
import type { TemporalConfig } from '../src/config';
import { flushTracing, useTracing } from '../src/tracing';

let flushesBeforeExit = false;

/**
 * The calls that get a span: all but `describe`, which `result` and `watch` repeat every half second
 * while they wait; a trace of its own each would bury the runs' traces.
 */
const TRACED_CALLS = [
  'start',
  'startWithDetails',
  'signal',
  'signalWithStart',
  'startUpdate',
  'startUpdateWithStart',
  'query',
  'terminate',
  'cancel',
] as const satisfies readonly (keyof WorkflowClientInterceptor)[];

function tracedCalls(interceptor: OpenTelemetryWorkflowClientInterceptor): WorkflowClientInterceptor {
  return Object.fromEntries(TRACED_CALLS.map((call) => [call, interceptor[call].bind(interceptor)]));
}

/**
 * The client's interceptors when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; none when not. A program
 * that ends by running out of work sends its last spans first; one that calls `process.exit` calls
 * `flushTracing` before (as the CLI does).
 */
export async function clientInterceptors(
  config: Pick<TemporalConfig, 'OTEL_EXPORTER_OTLP_ENDPOINT'>,
): Promise<ClientInterceptors> {
  const tracing = await useTracing(config.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (!tracing) return {};
  if (!flushesBeforeExit) {
    flushesBeforeExit = true;
    // Spans go out in batches, on a timer that does not keep the process alive.
    process.once('beforeExit', () => void flushTracing());
  }
  return { workflow: [tracedCalls(new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer }))] };
}

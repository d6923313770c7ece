/**
 * The process's OpenTelemetry tracer provider, for clients and workers alike: installed on first use
 * when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, and then shared by everything in the process that
 * traces (a `dev` command runs a client and a worker in one process). Unset, nothing is installed and
 * every span the Temporal interceptors ask for is OpenTelemetry's no-op.
 *
 * Never imported by workflow code: the exporter needs Node's network modules.
 */
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { BasicTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The service name spans carry unless `OTEL_SERVICE_NAME` (or `OTEL_RESOURCE_ATTRIBUTES`) names another. */
const DEFAULT_SERVICE_NAME = 'durable-agents';

/** What the interceptors need of the installed provider. */
export interface Tracing {
  tracer: Tracer;
  /** Where workflow spans, which leave the sandbox through a sink, are handed for export. */
  spanProcessor: SpanProcessor;
  resource: Resource;
}

let installed: Promise<Tracing & { provider: BasicTracerProvider }> | undefined;

/** Where spans go: OTLP/HTTP's traces path under the endpoint, as the SDK itself would resolve it. */
function tracesUrl(endpoint: string): string {
  return new URL('v1/traces', endpoint.endsWith('/') ? endpoint : `${endpoint}/`).href;
}

/** Loaded only when tracing is on: the SDK and its exporter take about 0.1 s to load. */
async function install(endpoint: string): Promise<Tracing & { provider: BasicTracerProvider }> {
  const [{ AsyncLocalStorageContextManager }, { OTLPTraceExporter }, { envDetectorSync, Resource }, sdk] =
    await Promise.all([
      import('@opentelemetry/context-async-hooks'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-base'),
    ]);
  const resource = new Resource({ 'service.name': DEFAULT_SERVICE_NAME }).merge(envDetectorSync.detect());
  // The endpoint checked by the config (which may come from another env than this process's); the
  // exporter reads its headers, timeout and compression from the environment.
  const spanProcessor = new sdk.BatchSpanProcessor(new OTLPTraceExporter({ url: tracesUrl(endpoint) }));
  const provider = new sdk.BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  return { tracer: provider.getTracer('durable-agents'), spanProcessor, resource, provider };
}

/**
 * The process's tracing, installed (as OpenTelemetry's global provider, with an async-hooks context
 * manager so a span started in an interceptor is the parent of those started under it, and W3C trace
 * context propagation) the first time it is asked for with an endpoint, which it then keeps;
 * `undefined` without one. The SDK reads the rest (service name, headers, batching: `OTEL_BSP_*`)
 * from the environment, as OpenTelemetry documents.
 */
export function useTracing(endpoint: string | undefined): Promise<Tracing | undefined> {
  if (endpoint === undefined) return Promise.resolve(undefined);
  installed ??= install(endpoint);
  return installed;
}

/** Sends the spans not sent yet; resolves when they are (or their export failed). */
export async function flushTracing(): Promise<void> {
  await (await installed)?.provider.forceFlush();
}

/**
 * Sends the spans not sent yet and uninstalls the provider: for a process that is about to end, or
 * that will install tracing anew.
 */
export async function shutdownTracing(): Promise<void> {
  const current = installed;
  if (!current) return;
  installed = undefined;
  await (await current).provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
}

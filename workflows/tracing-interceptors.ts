/**
 * A run's spans inside the workflow (`RunWorkflow`, `StartActivity`, `ContinueAsNew`, handled signals
 * and updates): Temporal's OpenTelemetry workflow interceptors, in every workflow bundle
 * (runtime/workflow-modules.ts). They carry the run's trace context to its activities and to the run
 * it continues as, so a whole chain is one trace. They change no command, so histories recorded
 * without them replay unchanged. Their spans leave the sandbox through the `exporter` sink, which the
 * worker does not call while it replays: a replay sends no span twice (runtime/worker-tracing.ts).
 *
 * They act only for a run whose start carried a trace context (a client with tracing on, or the run
 * it continued): a run started untraced makes no span and adds no trace header to its calls, so it
 * costs its history nothing. Whether a run is traced is in its history, so its replays agree.
 */
import type { WorkflowInterceptors } from '@temporalio/workflow';

/**
 * The header a traced start carries (`TRACE_HEADER` of the interceptors' instrumentation module,
 * which a unit test holds this to): read here, not imported, so that an untraced run evaluates none
 * of OpenTelemetry's modules.
 */
export const TRACE_HEADER = '_tracer-data';

/** Whether the run's start carried a trace context (told by its `execute`, which comes first), and its interceptors. */
interface Traced {
  on: boolean;
  interceptors?: WorkflowInterceptors;
}

type Kind = keyof WorkflowInterceptors;
type Method = (input: unknown, next: (input: unknown) => unknown) => unknown;

/**
 * Temporal's OpenTelemetry interceptors, made when a run turns out to be traced. Imported then, not at
 * the top: the SDK evaluates a bundle's modules again for every run it starts, and OpenTelemetry's
 * modules with the tracer provider its interceptors make cost each run about 7 ms of the workflow
 * thread (docs/performance.md), traced or not. `eager`: webpack puts the module in the bundle itself,
 * so the import only evaluates it (no chunk to load, no I/O).
 */
async function openTelemetry(): Promise<WorkflowInterceptors> {
  const loaded = await import(
    /* webpackMode: "eager" */ '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors.js'
  );
  return loaded.interceptors();
}

/**
 * Stands for the OpenTelemetry interceptors of `kind`: every method (each takes an input and the next
 * interceptor) goes straight to the next one while the run is not traced, and through them when it is.
 */
function whenTraced<K extends Kind>(kind: K, traced: Traced): NonNullable<WorkflowInterceptors[K]>[number] {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (typeof property !== 'string') return undefined;
        return (input: { headers?: Record<string, unknown> }, next: (input: unknown) => unknown) => {
          const through = (value: unknown) => {
            const chain = (traced.interceptors?.[kind] ?? []) as Record<string, Method | undefined>[];
            const inward = chain.reduceRight<(input: unknown) => unknown>((inner, interceptor) => {
              const method = interceptor[property];
              return method ? (argument) => method.call(interceptor, argument, inner) : inner;
            }, next);
            return inward(value);
          };
          if (property === 'execute' && kind === 'inbound') {
            traced.on = input.headers?.[TRACE_HEADER] !== undefined;
            // The run's code starts once they are made: its calls go through them from the first.
            if (traced.on && !traced.interceptors) {
              return openTelemetry().then((made) => {
                traced.interceptors = made;
                return through(input);
              });
            }
          }
          return traced.on ? through(input) : next(input);
        };
      },
    },
  ) as NonNullable<WorkflowInterceptors[K]>[number];
}

export function interceptors(): WorkflowInterceptors {
  const traced: Traced = { on: false };
  return {
    inbound: [whenTraced('inbound', traced)],
    outbound: [whenTraced('outbound', traced)],
    internals: [whenTraced('internals', traced)],
  };
}

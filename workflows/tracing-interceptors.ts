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
import { TRACE_HEADER } from '@temporalio/interceptors-opentelemetry/lib/instrumentation';
import { interceptors as openTelemetry } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';
import type { WorkflowInterceptors } from '@temporalio/workflow';

/** Whether the run's start carried a trace context: told by its `execute`, which comes first. */
interface Traced {
  on: boolean;
}

/**
 * `interceptor` with each of its methods (all take an input and the next interceptor) passed straight
 * to the next one while the run is not traced.
 */
function whenTraced<T extends object>(interceptor: T, traced: Traced): T {
  return new Proxy(interceptor, {
    get(target, property, receiver) {
      const method: unknown = Reflect.get(target, property, receiver);
      if (typeof method !== 'function') return method;
      return (input: { headers?: Record<string, unknown> }, next: (input: unknown) => unknown) => {
        if (property === 'execute') traced.on = input.headers?.[TRACE_HEADER] !== undefined;
        return traced.on ? method.call(target, input, next) : next(input);
      };
    },
  });
}

export function interceptors(): WorkflowInterceptors {
  const traced: Traced = { on: false };
  const { inbound = [], outbound = [], internals = [] } = openTelemetry();
  return {
    inbound: inbound.map((interceptor) => whenTraced(interceptor, traced)),
    outbound: outbound.map((interceptor) => whenTraced(interceptor, traced)),
    internals: internals.map((interceptor) => whenTraced(interceptor, traced)),
  };
}

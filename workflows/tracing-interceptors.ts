/**
 * A run's spans inside the workflow (`RunWorkflow`, `StartActivity`, `ContinueAsNew`, handled signals
 * and updates): Temporal's OpenTelemetry workflow interceptors, in every workflow bundle
 * (runtime/workflow-modules.ts). They carry the run's trace context to its activities and to the run
 * it continues as, so a whole chain is one trace. They change no command, so histories recorded
 * without them replay unchanged. Their spans leave the sandbox through the `exporter` sink, which the
 * worker does not call while it replays: a replay sends no span twice (runtime/tracing.ts).
 */
export { interceptors } from '@temporalio/interceptors-opentelemetry/lib/workflow-interceptors';

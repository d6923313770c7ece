/**
 * The workflow interceptor modules of every workflow bundle: the worker's own (bundled at start from
 * the sources), `npm run build`'s (scripts/build-workflow-bundle.js), the tests' and the bench's all
 * take them from here, so every bundle runs the same code and replays the same histories.
 */
export const WORKFLOW_INTERCEPTOR_MODULES: readonly string[] = [require.resolve('../workflows/tracing-interceptors')];

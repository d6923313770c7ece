/**
 * What every workflow bundle holds besides the workflows: the interceptor modules and the payload
 * converter. The worker's own bundle (made at start from the sources), `npm run build`'s
 * (scripts/build-workflow-bundle.js), the tests', the chaos test's and the bench's all take them from
 * here, so every bundle runs the same code and replays the same histories.
 */
export const WORKFLOW_BUNDLE_MODULES = {
  workflowInterceptorModules: [require.resolve('../workflows/tracing-interceptors')] as readonly string[],
  /** Reads a payload no converter knows as a value the run's checks refuse (codec/readable-payloads.ts). */
  payloadConverterPath: require.resolve('../codec/readable-payloads'),
} as const;

/** The options of `bundleWorkflowCode` for a bundle of the workflows at `workflowsPath`. */
export function workflowBundleOptions(workflowsPath: string) {
  const { workflowInterceptorModules, payloadConverterPath } = WORKFLOW_BUNDLE_MODULES;
  return { workflowsPath, workflowInterceptorModules: [...workflowInterceptorModules], payloadConverterPath };
}

/** Every workflow the worker registers; the bundle's entry point. */
export { agentRun } from './agent-run';

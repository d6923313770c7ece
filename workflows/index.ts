/** Every workflow the worker registers; the bundle's entry point. */
export { agentRun } from './agent-run';
export { userMemory } from './user-memory';

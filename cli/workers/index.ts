/**
 * The CLI's commands that need the worker side: `agents`, `worker` and `dev`. They load it through
 * the loader the entry hands `main` (cli/workers/worker-side.ts), only when they run.
 */
import type { Command } from 'commander';
import { registerAgentsCommand } from './agents-command';
import { registerDevCommand } from './dev-command';
import { registerWorkerCommand } from './worker-command';
import { noWorkerSide, type LoadWorkerSide } from './worker-side';

export type { LoadWorkerSide, WorkerSide } from './worker-side';

export function registerWorkerSideCommands(program: Command, loadWorkerSide: LoadWorkerSide = noWorkerSide): void {
  registerAgentsCommand(program, loadWorkerSide);
  registerWorkerCommand(program, loadWorkerSide);
  registerDevCommand(program, loadWorkerSide);
}

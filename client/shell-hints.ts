/**
 * What to type next, as the client's messages say it: the program and the command that starts a
 * worker (for a task queue, or of a role), and values quoted as shell words. `AgentClient` puts them
 * in its errors, the CLI in its notices. In a checkout of this repository they are its scripts
 * (`npm run worker`); where the package is installed, its bin (`npx durable-agents worker`).
 */
import { DEFAULT_TASK_QUEUE } from '../src/defaults';
import { checkoutRoot } from '../src/temporal-address';

/** A value as a shell word: as it is when that is safe, in single quotes otherwise. */
export function shellWord(value: string): string {
  return /^[\w.:/@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The program, as a hint names it: `durable-agents`, or `npx durable-agents` where the package is installed. */
export function programName(): string {
  return checkoutRoot() ? 'durable-agents' : 'npx durable-agents';
}

/** How to run the CLI here, to put a command after: `npm run -s client --`, or `npx durable-agents`. */
export function cliCommand(): string {
  return checkoutRoot() ? 'npm run -s client --' : 'npx durable-agents';
}

/** The worker program here, `role` (WORKER_ROLE) given: `npm run worker` or `npx durable-agents worker`. */
function workerCommand(role?: 'model' | 'tools'): string {
  if (checkoutRoot()) return `${role ? `WORKER_ROLE=${role} ` : ''}npm run worker`;
  return `npx durable-agents worker${role ? ` --role ${role}` : ''}`;
}

/** The command that starts a worker for `taskQueue`: `npm run worker`, with `TASK_QUEUE` when it is not the default. */
export function runsWorkerCommand(taskQueue: string): string {
  return `${taskQueue === DEFAULT_TASK_QUEUE ? '' : `TASK_QUEUE=${shellWord(taskQueue)} `}${workerCommand()}`;
}

/** How to start a worker for `taskQueue`: `start one: npm run worker`. */
export function startWorkerHint(taskQueue: string): string {
  return `start one: ${runsWorkerCommand(taskQueue)}`;
}

/** The queue a role's worker polls when nothing else is set: `agents-model`, `agents-tools`. */
const DEFAULT_ROLE_QUEUES = { model: `${DEFAULT_TASK_QUEUE}-model`, tools: `${DEFAULT_TASK_QUEUE}-tools` } as const;
const ROLE_QUEUE_VARIABLES = { model: 'MODEL_TASK_QUEUE', tools: 'TOOL_TASK_QUEUE' } as const;

/**
 * The command that starts a worker of `role` polling `taskQueue`: `WORKER_ROLE=tools npm run worker`,
 * naming the queue (`TOOL_TASK_QUEUE=near-db ...`) when it is not that role's default.
 */
export function roleWorkerCommand(role: 'model' | 'tools', taskQueue: string): string {
  const queue = taskQueue === DEFAULT_ROLE_QUEUES[role] ? '' : `${ROLE_QUEUE_VARIABLES[role]}=${shellWord(taskQueue)} `;
  return `${queue}${workerCommand(role)}`;
}

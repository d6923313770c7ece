/**
 * What to type next, as the client's messages say it: the command that starts a worker for a task
 * queue, and values quoted as shell words. `AgentClient` puts them in its errors, the CLI in its notices.
 */
import { DEFAULT_TASK_QUEUE } from '../src/defaults';

/** A value as a shell word: as it is when that is safe, in single quotes otherwise. */
export function shellWord(value: string): string {
  return /^[\w.:/@%+=,-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** How to start a worker for `taskQueue`: `npm run worker`, with `TASK_QUEUE` when it is not the default. */
export function startWorkerHint(taskQueue: string): string {
  return `start one: ${taskQueue === DEFAULT_TASK_QUEUE ? '' : `TASK_QUEUE=${shellWord(taskQueue)} `}npm run worker`;
}

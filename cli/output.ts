/**
 * How the CLI writes for people and for scripts: stdout holds the answer (text, or JSON with
 * `--json`), stderr the notices and errors. What it prints carries text from outside (messages,
 * answers, tool calls and results, names, failure messages): its control characters are shown, never
 * obeyed (src/terminal-text.ts).
 */
import type { WaitNotice } from '../client/waiting';
import { terminalSafe } from '../src/terminal-text';
import { formatWaitNotice } from './format';

/** Output for people on stdout, made inert. */
export function say(text: string): void {
  console.log(terminalSafe(text));
}

/** Output for people on stderr (notices, errors), made inert as `say` makes it. */
export function warn(text: string): void {
  console.error(terminalSafe(text));
}

/** `value` as JSON with `--json`, else `human()` for people. */
export function print(json: boolean, value: unknown, human: () => string): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else say(human());
}

/** While a command waits: what it waits for, as plain lines on stderr (stdout is for the answer). */
export function tellWaiting(notice: WaitNotice): void {
  warn(formatWaitNotice(notice));
}

/**
 * The CLI's argument and option parsers: a bad value is a usage error (exit code 2, with the
 * command's help) before the command connects to anything.
 */
import { InvalidArgumentError } from 'commander';
import { checkRunId } from '../src/run-id';

export function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a positive number');
  return number;
}

export function portNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return number;
}

/** A run id argument, held to the run id rule (src/run-id.ts) before the command connects to anything. */
export function runId(value: string): string {
  checkRunId(value);
  return value;
}

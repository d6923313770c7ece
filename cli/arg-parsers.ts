/**
 * The CLI's argument and option parsers: a bad value is a usage error (exit code 2, with the
 * command's help) before the command connects to anything.
 */
import { isIP } from 'node:net';
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

/** An IP address to listen on (a host name could resolve anywhere: whether it is loopback is then unknown). */
export function ipAddress(value: string): string {
  if (!isIP(value)) throw new InvalidArgumentError('expected an IP address, such as 127.0.0.1, 0.0.0.0 or ::1');
  return value;
}

/** A run id argument, held to the run id rule (src/run-id.ts) before the command connects to anything. */
export function runId(value: string): string {
  checkRunId(value);
  return value;
}

/** A JSON object option (an approval's edited arguments): anything else is a usage error. */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    throw new InvalidArgumentError(`expected a JSON object (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidArgumentError('expected a JSON object, such as \'{"amountUsd": 50}\'');
  }
  return parsed as Record<string, unknown>;
}

/**
 * Reading gRPC failures from Temporal: their status codes, and why a connection failed in words a
 * person can act on, for clients (grpc-js's messages) and workers (the Rust core's debug strings).
 */
import { checkoutRoot } from './temporal-address';

/** gRPC status codes the server answers with (see grpc.io's status-code table). */
export const GrpcCode = {
  deadlineExceeded: 4,
  notFound: 5,
  permissionDenied: 7,
  unimplemented: 12,
  unavailable: 14,
  unauthenticated: 16,
} as const;

/** How long the client waits for the server's first answer. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** The gRPC status code of `error`, or of its cause. */
export function grpcCode(error: unknown): number | undefined {
  const withCode = error as { code?: unknown; cause?: { code?: unknown } };
  const code = withCode?.code ?? withCode?.cause?.code;
  return typeof code === 'number' ? code : undefined;
}

/** What went wrong reaching Temporal, in a few words: the cause grpc-js buries in its message. */
export function connectionCause(error: unknown, timeoutMs = CONNECT_TIMEOUT_MS): string {
  if (grpcCode(error) === GrpcCode.deadlineExceeded) return `no answer within ${timeoutMs / 1_000} s`;
  const details = String((error as { details?: unknown })?.details ?? (error as Error)?.message ?? error);
  // grpc-js's codes, and the worker's: `tonic::transport::Error(Transport, ConnectError(... ConnectionRefused ...))`.
  const known: [RegExp, string][] = [
    [/ECONNREFUSED|ConnectionRefused/, 'connection refused'],
    [/Name resolution failed|ENOTFOUND|EAI_AGAIN|dns error/, 'host not found'],
    [/EHOSTUNREACH|ENETUNREACH|HostUnreachable|NetworkUnreachable/, 'host unreachable'],
    [/ECONNRESET|ConnectionReset/, 'connection reset'],
    [/ETIMEDOUT|TimedOut/, 'connection timed out'],
  ];
  const cause = known.find(([pattern]) => pattern.test(details));
  if (cause) return cause[1];
  // Another debug string of the worker's: its innermost message, not Rust's structure.
  const quoted = [...details.matchAll(/(?:message|error): "([^"]+)"/g)].pop()?.[1];
  if (/^[\w:]+Error\(/.test(details)) return quoted ?? 'transport error';
  return details
    .replace(/^\d+ [A-Z_]+: /, '')
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.? Resolution note: .*$/, '');
}

/**
 * What to do about an unreachable server: start the local one (with the checkout's script, or the
 * Temporal CLI where the package is installed), or check where the configuration points.
 */
export function connectionHint(address: string): string {
  const host = address.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  if (!(host === 'localhost' || host === '::1' || host.startsWith('127.'))) {
    return 'check --address, --profile or TEMPORAL_ADDRESS';
  }
  return checkoutRoot() ? 'start a dev server: ./temporal-dev.sh start' : 'start one: temporal server start-dev';
}

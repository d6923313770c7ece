/**
 * Reaching the Temporal server: a connection whose first call fails at once, naming why, when the
 * server cannot be reached, and the one-line error that says so (with why this address, and what to do).
 */
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { describeAddress, type TemporalConfig } from '../src/config';
import { connectionCause, connectionHint, GrpcCode, grpcCode } from '../src/connection-errors';
import { AgentClientError, ClientErrorKind } from '../src/errors';

/**
 * A connection to the configured server that has answered within `timeoutMs`; fails at once (with
 * the cause) if the connection is refused or the host unknown, and after `timeoutMs` if the server
 * does not answer.
 */
export async function openConnection(config: TemporalConfig, timeoutMs: number): Promise<Connection> {
  // `Connection.connect` waits for the channel to be ready, retrying a refused connection until its
  // deadline, and then reports only that the deadline passed. Instead the first call goes out
  // without waiting and without the SDK's retries, so grpc-js fails it as soon as the attempt fails,
  // naming why; once the server has answered, every call is retried as usual.
  let answered = false;
  const retry = defaultGrpcRetryOptions();
  const connection = Connection.lazy({
    ...config.connection,
    interceptors: [
      makeGrpcRetryInterceptor({
        ...retry,
        retryableDecider: (attempt, status) => answered && retry.retryableDecider(attempt, status),
      }),
    ],
  });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
  } catch (error) {
    // A server too old to know the call has answered all the same.
    if (grpcCode(error) !== GrpcCode.unimplemented) {
      await connection.close();
      throw connectionError(config, error, timeoutMs);
    }
  }
  answered = true;
  return connection;
}

/**
 * The one-line error for a server that cannot be reached (or refuses the credentials), with why this
 * address (`(TEMPORAL_ADDRESS)`, `(the default)`, ...) and what to do.
 */
export function connectionError(config: TemporalConfig, error: unknown, timeoutMs?: number): AgentClientError {
  const code = grpcCode(error);
  if (code === GrpcCode.unauthenticated || code === GrpcCode.permissionDenied) {
    return new AgentClientError(
      `Temporal at ${describeAddress(config)} refused the credentials: ${connectionCause(error)} ` +
        '(check TEMPORAL_API_KEY, TEMPORAL_TLS_* or --profile)',
      ClientErrorKind.unreachable,
    );
  }
  return new AgentClientError(
    `cannot reach Temporal at ${describeAddress(config)}: ${connectionCause(error, timeoutMs)} ` +
      `(${connectionHint(config.TEMPORAL_ADDRESS)})`,
    ClientErrorKind.unreachable,
  );
}

/**
 * Connection options for a local dev server or Temporal Cloud, from the same environment variables.
 */
import { readFileSync } from 'node:fs';
import type { TemporalConfig } from './config';

export interface TemporalConnectionOptions {
  address: string;
  apiKey?: string;
  tls?: boolean | { clientCertPair: { crt: Buffer; key: Buffer } };
}

/** Options accepted by both `Connection.connect` (clients) and `NativeConnection.connect` (workers). */
export function connectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  const clientCertPair =
    config.TEMPORAL_TLS_CERT && config.TEMPORAL_TLS_KEY
      ? { crt: readFileSync(config.TEMPORAL_TLS_CERT), key: readFileSync(config.TEMPORAL_TLS_KEY) }
      : undefined;
  const tls = clientCertPair ? { clientCertPair } : (config.TEMPORAL_TLS ?? Boolean(config.TEMPORAL_API_KEY));
  return { address: config.TEMPORAL_ADDRESS, apiKey: config.TEMPORAL_API_KEY, ...(tls && { tls }) };
}

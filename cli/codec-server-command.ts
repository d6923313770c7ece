/**
 * `codec-server`: decrypts payloads for the Web UI and the temporal CLI (Temporal's remote codec,
 * decode only) until SIGINT or SIGTERM. The server itself is codec/server.ts.
 */
import type { Command } from 'commander';
import { EncryptionCodec, parsePayloadKeys, parseUiOrigin, startCodecServer } from '../codec';
import { loadCodecServerConfig } from '../src/config';
import { CODEC_SERVER_DEFAULTS } from '../src/defaults';
import { portNumber } from './arg-parsers';

interface CodecServerOptions {
  port?: number;
  host: string;
  uiOrigin?: string;
}

/** Resolves on the first SIGINT or SIGTERM: how a long-running command is told to stop. */
export function stopRequested(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

export function registerCodecServerCommand(program: Command): void {
  program
    .command('codec-server')
    .description(
      'decrypt payloads for the Web UI and `temporal ... --codec-endpoint` (Temporal remote codec, decode only); ' +
        'needs PAYLOAD_KEYS and CODEC_SERVER_TOKEN',
    )
    .option(
      '--port <n>',
      `port, 0 for a free one (env CODEC_SERVER_PORT; default ${CODEC_SERVER_DEFAULTS.port})`,
      portNumber,
    )
    .option(
      '--host <address>',
      'address to listen on; beyond loopback, put TLS in front (tokens and plaintext travel in the clear)',
      CODEC_SERVER_DEFAULTS.host,
    )
    .option(
      '--ui-origin <origin>',
      `the one Web UI origin its pages may call from (env CODEC_SERVER_UI_ORIGIN; default ${CODEC_SERVER_DEFAULTS.uiOrigin})`,
    )
    .action(serveCodec);
}

async function serveCodec(options: CodecServerOptions): Promise<void> {
  const config = loadCodecServerConfig();
  // The flag wins over its env twin; each is checked under its own name.
  const [origin, source] =
    options.uiOrigin !== undefined
      ? [options.uiOrigin, '--ui-origin']
      : [config.CODEC_SERVER_UI_ORIGIN, 'CODEC_SERVER_UI_ORIGIN'];
  const uiOrigin = origin === undefined ? CODEC_SERVER_DEFAULTS.uiOrigin : parseUiOrigin(origin, source);
  const server = await startCodecServer({
    codec: new EncryptionCodec(parsePayloadKeys(config.PAYLOAD_KEYS)),
    token: config.CODEC_SERVER_TOKEN,
    uiOrigin,
    host: options.host,
    port: options.port ?? config.CODEC_SERVER_PORT,
  });
  // The token came from the environment and stays there: the endpoint is printed with a placeholder.
  console.log(
    `codec-server: decoding on ${server.url} for the Web UI at ${uiOrigin}; ` +
      `Web UI codec endpoint ${server.url}/<CODEC_SERVER_TOKEN>, ` +
      `temporal CLI --codec-endpoint ${server.url} --codec-auth "Bearer <CODEC_SERVER_TOKEN>"`,
  );
  await stopRequested();
  await server.close();
}

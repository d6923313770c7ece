import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultPayloadConverter } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { EncryptionCodec, parsePayloadKeys } from '../../codec';
import { searchAttributeFlags, freePort, temporalBinary } from '../support/dev-server';
import { tempPath } from '../support/harness';

const REPO = join(__dirname, '..', '..');
const execute = promisify(execFile);

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

describe('temporal-dev.sh', () => {
  let env: Record<string, string>;
  let address: string;
  let runDir: string;

  async function script(...args: string[]): Promise<Outcome> {
    return scriptWith({}, ...args);
  }
  async function scriptWith(extraEnv: Record<string, string>, ...args: string[]): Promise<Outcome> {
    try {
      const { stdout, stderr } = await execute(join(REPO, 'temporal-dev.sh'), args, {
        env: { ...env, ...extraEnv },
        timeout: 90_000,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failed = error as Outcome;
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }
  const cli = (...args: string[]) =>
    execFileSync(temporalBinary(), [...args, '--address', address], { encoding: 'utf8' });
  const serverProcesses = () => {
    try {
      return execFileSync('pgrep', ['-f', `start-dev.*--port ${env.TEMPORAL_PORT}`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };

  beforeAll(async () => {
    runDir = tempPath('temporal-run');
    mkdirSync(runDir);
    const [port, uiPort, codecPort] = [await freePort(), await freePort(), await freePort()];
    env = {
      ...(process.env as Record<string, string>),
      TEMPORAL_RUN_DIR: runDir,
      TEMPORAL_PORT: String(port),
      TEMPORAL_UI_PORT: String(uiPort),
      CODEC_SERVER_PORT: String(codecPort),
    };
    delete env.PAYLOAD_KEYS;
    delete env.CODEC_SERVER_TOKEN;
    address = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await script('stop');
  });

  it('lists the search attributes of the contract module', async () => {
    const listed = await script('search-attributes');
    expect(listed.stdout.trim().split('\n')).toEqual(searchAttributeFlags());
  });

  it('starts a healthy server with the Web UI, stops it completely, and keeps runs across a restart', async () => {
    const started = await script('start');
    expect(started.code).toBe(0);
    expect(cli('operator', 'cluster', 'health')).toMatch(/SERVING/);
    const ui = await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`);
    expect(ui.status).toBe(200);
    expect(cli('operator', 'search-attribute', 'list')).toMatch(/AgentStatus\s+Keyword/);

    const again = await script('start');
    expect(again.code).toBe(0);
    expect(again.stdout + again.stderr).toMatch(/already running/);
    expect((await script('status')).code).toBe(0);

    cli(
      'workflow',
      'start',
      '--task-queue',
      'nobody-polls',
      '--type',
      'agentRun',
      '--workflow-id',
      'persisted-run',
      '--input',
      '{}',
    );
    expect((await script('stop')).code).toBe(0);
    expect(serverProcesses()).toBe('');
    expect((await script('status')).code).toBe(3);

    expect((await script('start')).code).toBe(0);
    expect(cli('workflow', 'list')).toContain('persisted-run');
    await script('stop');
  });

  it('refuses a taken port with one clear message', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer().listen(Number(env.TEMPORAL_PORT), '127.0.0.1');
    await new Promise((resolve) => blocker.once('listening', resolve));
    try {
      const outcome = await script('start');
      expect(outcome.code).not.toBe(0);
      expect(outcome.stderr.trim().split('\n')).toHaveLength(1);
      expect(outcome.stderr).toMatch(new RegExp(`port ${env.TEMPORAL_PORT} .*in use`));
    } finally {
      blocker.close();
    }
  });

  it('reads state files as data: commands in them are never run, and the state is refused', async () => {
    expect((await script('start')).code).toBe(0);
    const addrFile = join(runDir, 'server.addr');
    const pidFile = join(runDir, 'server.pid');
    const [recordedAddr, recordedPid] = [readFileSync(addrFile, 'utf8'), readFileSync(pidFile, 'utf8')];
    expect(recordedAddr).toBe(`TEMPORAL_PORT=${env.TEMPORAL_PORT}\nTEMPORAL_UI_PORT=${env.TEMPORAL_UI_PORT}\n`);
    try {
      for (const [file, content] of [
        [addrFile, `TEMPORAL_PORT=$(touch PWNED)\nTEMPORAL_UI_PORT=${env.TEMPORAL_UI_PORT}\n`],
        [addrFile, `TEMPORAL_PORT=${env.TEMPORAL_PORT}\ntouch PWNED\n`],
        [addrFile, `TEMPORAL_PORT=\`touch PWNED\`\n`],
        [addrFile, `PATH=/tmp\nTEMPORAL_PORT=${env.TEMPORAL_PORT}; touch PWNED\n`],
        [addrFile, `TEMPORAL_PORT=70000\n`],
        [pidFile, `${recordedPid.trim()}\n$(touch PWNED)\n`],
        [pidFile, `$(touch PWNED)\n`],
      ]) {
        const pwned = join(runDir, `pwned-${randomUUID()}`);
        writeFileSync(file, content.replaceAll('PWNED', pwned));
        for (const command of ['status', 'start']) {
          const outcome = await script(command);
          expect(existsSync(pwned)).toBe(false);
          expect(outcome.code).toBe(1);
          expect(outcome.stderr.trim().split('\n')).toEqual([
            expect.stringMatching(
              new RegExp(`^temporal-dev: error: state file ${file} is invalid \\(.+\\) and was not used`),
            ),
          ]);
        }
        writeFileSync(addrFile, recordedAddr);
        writeFileSync(pidFile, recordedPid);
      }
      expect((await script('status')).code).toBe(0);
    } finally {
      writeFileSync(addrFile, recordedAddr);
      writeFileSync(pidFile, recordedPid);
      await script('stop');
    }
  });

  it.each([
    ['TEMPORAL_PORT', '70000'],
    ['TEMPORAL_PORT', 'abc'],
    ['TEMPORAL_UI_PORT', '0'],
    ['TEMPORAL_UI_PORT', '$(touch PWNED)'],
    ['TEMPORAL_PORT', '8233 --headless'],
  ])('refuses %s=%j in one line', async (name, value) => {
    const pwned = join(runDir, `pwned-${randomUUID()}`);
    const outcome = await scriptWith({ [name]: value.replace('PWNED', pwned) }, 'start');
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`^temporal-dev: error: ${name} must be a port number from 1 to 65535, not `)),
    ]);
    expect(existsSync(pwned)).toBe(false);
    expect(serverProcesses()).toBe('');
  });

  it('with PAYLOAD_KEYS, starts a codec server for the Web UI that decodes with the token only, and stops it', async () => {
    const keys = `A:${randomBytes(32).toString('base64')}`;
    const started = await scriptWith({ PAYLOAD_KEYS: keys }, 'start');
    try {
      expect(started.code).toBe(0);
      const codecUrl = `http://127.0.0.1:${env.CODEC_SERVER_PORT}`;
      expect(started.stdout).toContain(`Codec server: ${codecUrl}`);
      expect(started.stdout).toContain(
        `--codec-endpoint ${codecUrl} --codec-auth "Bearer $(cat ${join(runDir, 'codec.token')})"`,
      );
      expect(started.stdout).toContain(`TEMPORAL_CODEC_ENDPOINT=${codecUrl}`);
      const tokenFile = join(runDir, 'codec.token');
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(tokenFile, 'utf8').trim();
      expect(token).toMatch(/^[0-9a-f]{64}$/);
      expect(started.stdout + started.stderr).not.toContain(token);
      expect(readFileSync(join(runDir, 'server.addr'), 'utf8')).toContain(
        `CODEC_SERVER_PORT=${env.CODEC_SERVER_PORT}\n`,
      );

      // The Web UI was started pointing at it, with the token as the first path segment.
      const settings = await (await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/api/v1/settings`)).json();
      expect((settings as { Codec: { Endpoint: string } }).Codec.Endpoint).toBe(`${codecUrl}/${token}`);

      const codec = new EncryptionCodec(parsePayloadKeys(keys));
      const encrypted = await codec.encode([defaultPayloadConverter.toPayload('KOALA-55 a secret')]);
      const body = JSON.stringify(
        temporal.api.common.v1.Payloads.toObject(temporal.api.common.v1.Payloads.create({ payloads: encrypted }), {
          bytes: String,
        }),
      );
      const decode = (path: string, headers: Record<string, string> = {}) =>
        fetch(`${codecUrl}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body,
        });
      const decoded = await decode(`/${token}/decode`, { origin: `http://localhost:${env.TEMPORAL_UI_PORT}` });
      expect(decoded.status).toBe(200);
      expect(decoded.headers.get('access-control-allow-origin')).toBe(`http://localhost:${env.TEMPORAL_UI_PORT}`);
      const [payload] = temporal.api.common.v1.Payloads.fromObject((await decoded.json()) as object).payloads;
      expect(defaultPayloadConverter.fromPayload(payload)).toBe('KOALA-55 a secret');
      expect((await decode('/decode', { authorization: `Bearer ${token}` })).status).toBe(200);
      const refused = await decode('/decode');
      expect(refused.status).toBe(401);
      expect(await refused.text()).not.toContain('KOALA');

      expect((await script('status')).stdout).toContain(`Codec server: ${codecUrl}`);
    } finally {
      const stopped = await script('stop');
      expect(stopped.stdout).toMatch(/Codec server stopped/);
    }
    const portClosed = await fetch(`http://127.0.0.1:${env.CODEC_SERVER_PORT}/decode`).then(
      () => false,
      () => true,
    );
    expect(portClosed).toBe(true);
    expect(existsSync(join(runDir, 'codec.token'))).toBe(false);
  });

  it('reports bad PAYLOAD_KEYS from the codec server in one line, without the key, and starts nothing', async () => {
    const short = randomBytes(16).toString('base64');
    const outcome = await scriptWith({ PAYLOAD_KEYS: `A:${short}` }, 'start');
    expect(outcome.code).toBe(1);
    expect(outcome.stderr.split('\n').filter((line) => line.includes('error'))).toEqual([
      'temporal-dev: error: the codec server did not start: error: PAYLOAD_KEYS: key "A" is 16 bytes after base64 decoding; AES-256 needs exactly 32 (generate one with: openssl rand -base64 32)',
    ]);
    expect(outcome.stderr).not.toContain(short);
    expect(serverProcesses()).toBe('');
  });

  it('answers an unknown command with usage and exit 2', async () => {
    const outcome = await script('bogus');
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/Usage: \.\/temporal-dev\.sh/);
  });
});

/**
 * Where Temporal is, as every entry finds it (src/config.ts, src/temporal-address.ts): a flag,
 * TEMPORAL_ADDRESS or a profile, else the dev server temporal-dev.sh runs (the ports it recorded, read
 * as data), else TEMPORAL_PORT, else the default; and the local tour's (cli/local-temporal.ts), which
 * starts nothing when one is named.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOrStartTemporal } from '../../cli/local-temporal';
import { describeAddress, loadTemporalConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';
import { recordedPorts, runDir } from '../../src/temporal-address';
import { tempPath } from '../support/harness';

const REPO = join(__dirname, '..', '..');

describe('the local Temporal', () => {
  it('is the one TEMPORAL_ADDRESS names, whatever TEMPORAL_PORT says; nothing is started or stopped', async () => {
    const temporal = await findOrStartTemporal({ TEMPORAL_ADDRESS: ' 10.0.0.9:7233 ', TEMPORAL_PORT: '27233' });
    expect(temporal).toMatchObject({ address: '10.0.0.9:7233', origin: 'configured' });
    expect(temporal.uiUrl).toBeUndefined();
    expect(temporal.stopCommand).toBeUndefined();
    await temporal.stop();
  });

  it("reads the script's run folder as the script does: relative to the project, .temporal by default", () => {
    expect(runDir({})).toBe(join(REPO, '.temporal'));
    expect(runDir({ TEMPORAL_RUN_DIR: 'elsewhere/run' })).toBe(join(REPO, 'elsewhere', 'run'));
    expect(runDir({ TEMPORAL_RUN_DIR: '/tmp/run' })).toBe('/tmp/run');
  });

  it('takes the ports the server started with from server.addr, and refuses anything but ports', () => {
    const dir = tempPath('run');
    mkdirSync(dir);
    expect(recordedPorts(dir)).toBeUndefined();
    writeFileSync(join(dir, 'server.addr'), 'TEMPORAL_PORT=27233\nTEMPORAL_UI_PORT=28233\n');
    expect(recordedPorts(dir)).toEqual({ TEMPORAL_PORT: 27233, TEMPORAL_UI_PORT: 28233 });
    for (const bad of ['TEMPORAL_PORT=$(touch x)\n', 'PATH=/tmp\n', 'TEMPORAL_PORT=70000\n', 'TEMPORAL_PORT=0\n']) {
      writeFileSync(join(dir, 'server.addr'), bad);
      expect(() => recordedPorts(dir)).toThrow(/server\.addr is invalid and was not used/);
    }
  });
});

describe('where every entry connects', () => {
  let devServer: ChildProcess | undefined;
  afterAll(() => devServer?.kill('SIGKILL'));

  /** A run folder as temporal-dev.sh leaves it: `server.addr`, and `server.pid` naming `pid`. */
  function runFolder(port: number, pid?: number): string {
    const dir = tempPath('run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'server.addr'), `TEMPORAL_PORT=${port}\nTEMPORAL_UI_PORT=${port + 1}\n`);
    if (pid !== undefined) writeFileSync(join(dir, 'server.pid'), `${pid}\n`);
    return dir;
  }
  const found = (env: Record<string, string>, flags = {}) => {
    const config = loadTemporalConfig(env, flags);
    return { address: config.TEMPORAL_ADDRESS, source: config.addressFrom?.source, shown: describeAddress(config) };
  };

  it('is the dev server temporal-dev.sh runs, over TEMPORAL_PORT; a name given wins over both', async () => {
    // A live process whose command line is a dev server's, as the script checks (never a real server here).
    // One exec, argv[0] set by spawn itself: 'spawn' fires after it, while a shell's `exec -a` would
    // leave a window where /proc shows an empty command line mid-exec.
    devServer = spawn('sleep', ['60'], { argv0: 'temporal server start-dev', stdio: 'ignore' });
    await new Promise((resolve) => devServer!.once('spawn', resolve));
    const dir = runFolder(37_411, devServer.pid);
    expect(found({ TEMPORAL_RUN_DIR: dir, TEMPORAL_PORT: '27233' })).toEqual({
      address: '127.0.0.1:37411',
      source: 'dev server',
      shown: `127.0.0.1:37411 (the dev server ./temporal-dev.sh runs: ${join(dir, 'server.addr')})`,
    });
    expect(found({ TEMPORAL_RUN_DIR: dir, TEMPORAL_ADDRESS: '10.0.0.9:7233' })).toEqual({
      address: '10.0.0.9:7233',
      source: 'TEMPORAL_ADDRESS',
      shown: '10.0.0.9:7233 (TEMPORAL_ADDRESS)',
    });
    expect(found({ TEMPORAL_RUN_DIR: dir, TEMPORAL_ADDRESS: '10.0.0.9:7233' }, { address: '10.0.0.8:7233' })).toEqual({
      address: '10.0.0.8:7233',
      source: 'flag',
      shown: '10.0.0.8:7233 (--address)',
    });
  });

  it('is TEMPORAL_PORT on loopback when no dev server runs (its pid gone), else the default', () => {
    const stale = runFolder(37_412, 2 ** 22 + 7);
    expect(found({ TEMPORAL_RUN_DIR: stale, TEMPORAL_PORT: '27233' })).toEqual({
      address: '127.0.0.1:27233',
      source: 'TEMPORAL_PORT',
      shown: '127.0.0.1:27233 (TEMPORAL_PORT)',
    });
    const empty = tempPath('run');
    mkdirSync(empty);
    expect(found({ TEMPORAL_RUN_DIR: empty })).toEqual({
      address: 'localhost:7233',
      source: 'default',
      shown: 'localhost:7233 (the default)',
    });
    expect(() => loadTemporalConfig({ TEMPORAL_RUN_DIR: empty, TEMPORAL_PORT: '8233 --headless' })).toThrow(
      new ConfigError('invalid environment: TEMPORAL_PORT must be a port number from 1 to 65535, not 8233 --headless'),
    );
  });
});

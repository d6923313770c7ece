/**
 * Where the local tour's Temporal is (cli/local-temporal.ts): TEMPORAL_ADDRESS wins and starts
 * nothing; otherwise the ports temporal-dev.sh recorded, read as data.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findOrStartTemporal, recordedPorts, runDir } from '../../cli/local-temporal';
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

import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
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

  async function script(...args: string[]): Promise<Outcome> {
    try {
      const { stdout, stderr } = await execute(join(REPO, 'temporal-dev.sh'), args, { env, timeout: 90_000 });
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
    const runDir = tempPath('temporal-run');
    mkdirSync(runDir);
    const [port, uiPort] = [await freePort(), await freePort()];
    env = {
      ...(process.env as Record<string, string>),
      TEMPORAL_RUN_DIR: runDir,
      TEMPORAL_PORT: String(port),
      TEMPORAL_UI_PORT: String(uiPort),
    };
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

  it('answers an unknown command with usage and exit 2', async () => {
    const outcome = await script('bogus');
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/Usage: \.\/temporal-dev\.sh/);
  });
});

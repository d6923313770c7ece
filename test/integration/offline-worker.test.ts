/**
 * A worker on the offline demo model (issue #12): `AGENT_MODEL=offline` or `npm run worker -- --offline`
 * serves the scripted model from the worker's own process, with no key and no OPENAI_BASE_URL, so the
 * CLI tour works offline: its first line says so, and the helpdesk run of the demo completes through
 * the project CLI, its refund approved or denied there.
 */
import { randomUUID } from 'node:crypto';
import { OFFLINE_MODEL_NAME, SAMPLE_REQUEST } from '../../runtime/offline-model';
import { pendingCall, runCli } from '../support/cli';
import { workerEnv } from '../support/harness';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const FIRST_LINE = /^worker: model OFFLINE DEMO MODEL \(scripted, no key needed\) at (http:\/\/127\.0\.0\.1:\d+\/v1)$/;

const processes = useWorkerProcesses();
const spawnWorker = (env: Record<string, string>, args?: string[]) => processes.spawn(env, args);

/** Env with neither a key nor an endpoint: the offline model must need neither. */
const offlineEnv = (overrides: Record<string, string | undefined>) =>
  workerEnv({ OPENAI_API_KEY: undefined, OPENAI_BASE_URL: undefined, ...overrides });

/** The worker's first two lines, checked; returns the offline model's URL. */
function checkFirstLines(worker: WorkerProcess, taskQueue: string): string {
  const [first, second] = worker.output().split('\n');
  expect(first).toMatch(FIRST_LINE);
  expect(second).toMatch(new RegExp(`^worker: polling task queue "${taskQueue}"`));
  return FIRST_LINE.exec(first)![1];
}

describe('a worker on the offline demo model', () => {
  it('AGENT_MODEL=offline: says so first, and a CLI helpdesk run with its refund approved completes', async () => {
    const env = offlineEnv({ AGENT_MODEL: 'offline' });
    const worker = spawnWorker(env);
    await waitUntilPolling(worker);
    checkFirstLines(worker, env.TASK_QUEUE);

    const id = `offline-${randomUUID()}`;
    const started = runCli(['start', 'helpdesk', SAMPLE_REQUEST, '--id', id, '--wait'], env, 90_000);
    const callId = await pendingCall(id, env, 'issue_refund');
    expect(await runCli(['approve', id, callId], env)).toMatchObject({ code: 0 });

    const { code, stdout } = await started;
    expect(code).toBe(0);
    expect(stdout.startsWith(`${id}\n`)).toBe(true);
    expect(stdout).toContain('I have refunded the full $129 to your original payment method');
    // Priced like gpt-4o-mini, under the offline model's name: 420+910+1080 in, 48+36+41 out.
    const result = JSON.parse((await runCli(['result', id, '--json'], env)).stdout);
    expect(result).toMatchObject({ status: 'completed', steps: 3, usage: { costKnown: true } });
    expect(Object.keys(result.usage.byModel)).toEqual([OFFLINE_MODEL_NAME]);
    expect(result.usage.costUsd).toBeCloseTo((2410 * 0.15 + 125 * 0.6) / 1_000_000, 12);
  }, 180_000);

  it('--offline works the same, and the offline model stops with the worker', async () => {
    const env = offlineEnv({ AGENT_MODEL: undefined });
    const worker = spawnWorker(env, ['--offline']);
    await waitUntilPolling(worker);
    const baseUrl = checkFirstLines(worker, env.TASK_QUEUE);

    const id = (await runCli(['start', 'helpdesk', SAMPLE_REQUEST], env)).stdout.trim();
    const callId = await pendingCall(id, env, 'issue_refund');
    expect(await runCli(['deny', id, callId, '--note', 'not today'], env)).toMatchObject({ code: 0 });
    expect(await runCli(['result', id], env, 60_000)).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('I could not issue the refund for order 1042 right now'),
    });

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    await expect(fetch(`${baseUrl}/models`)).rejects.toThrow();
  }, 180_000);

  it('refuses an argument it does not know', async () => {
    const worker = spawnWorker(offlineEnv({}), ['--ofline']);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain(
      'worker: unknown argument --ofline (the worker takes --offline and --role <role>; see README)',
    );
  }, 60_000);
});

import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { approvalUpdate, stateQuery, WorkflowType } from '../../src/contract';
import type { agentRun } from '../../workflows';
import { reply, turnOf } from '../../testing';
import { effectsSetup, jsonLines } from '../support/effects';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { freePort, temporalBinary } from '../support/dev-server';
import { workerEnv } from '../support/harness';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const processes = useWorkerProcesses();

const fleetEnv = (overrides: Record<string, string> = {}) => effectsSetup(processes, overrides);

async function spawnRole(env: Record<string, string>, role: string, extra: Record<string, string> = {}) {
  const worker = processes.spawn({ ...env, WORKER_ROLE: role, ...extra });
  await waitUntilPolling(worker);
  return worker;
}

function startRun(env: Record<string, string>, message = 'Record the refund.') {
  return processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
    taskQueue: env.TASK_QUEUE,
    workflowId: `fleet-${randomUUID()}`,
    args: [{ agent: 'effects', message }],
  });
}

/**
 * The sum of the samples of `name` whose labels include `labels`, in Prometheus' text format (the
 * SDK adds labels of its own, such as the namespace and task queue).
 */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && wanted.every((label) => line.includes(label)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const readyz = async (port: number) => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;

describe('a fleet of workers by role', () => {
  it('runs a run on three workers, one per role; a tools worker killed mid-tool is replaced and the tool runs once', async () => {
    const { effects, env } = await fleetEnv();
    const workflows = await spawnRole(env, 'workflows');
    expect(workflows.output()).toContain(
      `worker: polling task queue "${env.TASK_QUEUE}" (runs) on ${env.TEMPORAL_ADDRESS} (TEMPORAL_ADDRESS), ` +
        'namespace default, role workflows',
    );
    const model = await spawnRole(env, 'model');
    expect(model.output()).toContain(`worker: polling task queue "${env.TASK_QUEUE}-model" (model calls) on`);
    const tools = await spawnRole(env, 'tools');
    expect(tools.output()).toContain(`worker: polling task queue "${env.TASK_QUEUE}-tools" (tool calls) on`);
    // A tools worker calls no model: its first line is what it polls. The model worker names its model.
    expect(tools.output()).toMatch(/^worker: polling /);
    expect(tools.output()).not.toContain('worker: model');
    expect(model.output()).toMatch(/^worker: model gpt-4o-mini at /);

    const handle = await startRun(env);
    await eventually(() => jsonLines(effects).length === 1, 'the tool to record its effect');
    tools.child.kill('SIGKILL');
    expect(await tools.exited).toBe('SIGKILL');
    await spawnRole(env, 'tools', { EFFECT_DELAY_MS: '0' });

    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Recorded.', steps: 2 });
    const key = `${handle.workflowId}/${handle.firstExecutionRunId}/1.1`;
    expect(jsonLines(effects)).toEqual([{ key, name: 'refund' }]);
    // The call was retried on the new tools worker (after its heartbeat timeout), under the same key.
    expect(jsonLines<{ key: string }>(`${effects}.attempts`).map((attempt) => attempt.key)).toEqual([key, key]);
    // Each call ran where its role is: the workflows and model workers ran no tool.
    for (const worker of [workflows, model]) expect(worker.child.exitCode).toBeNull();
  });

  it('drains on SIGTERM: readiness turns 503, the tool in flight finishes, the worker exits 0, the run completes', async () => {
    // The tool takes 8 s (within the 10 s drain): the default 3 s left a loaded machine's test too
    // little time to see the 503 before the drained worker exited and its health port closed.
    const { effects, env } = await fleetEnv({ EFFECT_DELAY_MS: '8000' });
    await spawnRole(env, 'workflows');
    await spawnRole(env, 'model');
    const healthPort = await freePort();
    const tools: WorkerProcess = await spawnRole(env, 'tools', { HEALTH_PORT: String(healthPort) });
    await eventually(async () => (await readyz(healthPort)) === 200, 'the tools worker to be ready');
    expect(await (await fetch(`http://127.0.0.1:${healthPort}/healthz`)).text()).toBe('ok (running)\n');

    const handle = await startRun(env);
    await eventually(() => jsonLines(effects).length === 1, 'the tool to start');
    tools.child.kill('SIGTERM');
    await eventually(async () => (await readyz(healthPort)) === 503, 'readiness to turn 503 while draining');
    expect(await tools.exited).toBe(0);
    expect(tools.output()).toContain('worker: SIGTERM: draining, calls in flight have 10 s to finish');

    // The tool finished on the stopping worker: its result reached the run, which needs no other tools worker.
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Recorded.', steps: 2 });
    expect(jsonLines(`${effects}.attempts`)).toHaveLength(1);
  });

  it("spends a run's model calls at the prices it recorded at its start, whatever prices the model worker has", async () => {
    const prices = (input: number, output: number) =>
      JSON.stringify({ 'priced-model': { inputPerMillion: input, outputPerMillion: output } });
    const { env } = await fleetEnv({ EFFECT_DELAY_MS: '0', AGENT_MODEL: 'priced-model' });
    // The spec is resolved on the workflows worker: it records that worker's prices.
    await spawnRole(env, 'workflows', { MODEL_PRICES: prices(10, 20) });
    await spawnRole(env, 'model', { MODEL_PRICES: prices(1_000, 2_000) });
    await spawnRole(env, 'tools');
    const result = await (await startRun(env)).result();
    // Two calls of 100 input and 20 output tokens (the scripted model's usage) at 10 and 20 $/M.
    expect(result.steps).toBe(2);
    expect(result.usage.costUsd).toBeCloseTo((2 * (100 * 10 + 20 * 20)) / 1_000_000, 10);
    expect(result.usage.costKnown).toBe(true);
  });

  it('MODEL_CALLS_PER_SECOND limits model calls across the fleet: 2 a second, whatever the number of model workers', async () => {
    const { model, env } = await fleetEnv({ EFFECT_DELAY_MS: '0', MODEL_CALLS_PER_SECOND: '2' });
    await spawnRole(env, 'workflows');
    // Two model workers: the limit is the task queue's, enforced by the server, not each worker's.
    await spawnRole(env, 'model');
    await spawnRole(env, 'model');
    await spawnRole(env, 'tools');
    const handles = await Promise.all(Array.from({ length: 8 }, () => startRun(env)));
    await eventually(() => model.requests.length >= 8, 'eight model calls', 30_000);
    const times = model.requests.slice(0, 8).map((request) => request.receivedAt);
    // Temporal's limiter lets a burst of rate + 1 through at once, then 2 a second: 8 calls take 2.5 s.
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(2_000);
    for (const handle of handles) expect(await handle.result()).toMatchObject({ status: 'completed' });
  });

  it('exports the agent metrics at METRICS_PORT with the values of a known run, counted once though the worker replays it', async () => {
    const { env } = await fleetEnv({ EFFECT_DELAY_MS: '0' });
    const metricsPort = await freePort();
    await spawnRole(env, 'all', { METRICS_PORT: String(metricsPort) });
    const handle = await startRun(env);
    expect(await handle.result()).toMatchObject({ status: 'completed', steps: 2 });
    // A query on a closed run makes the worker replay its whole history.
    expect(await handle.query(stateQuery)).toMatchObject({ status: 'completed' });
    const scrape = async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const text = await eventually(async () => {
      const scraped = await scrape();
      return sample(scraped, 'agent_runs', { agent: 'effects' }) > 0 ? scraped : undefined;
    }, 'the run to be counted');
    const agent = { agent: 'effects', model: 'gpt-4o-mini' };
    expect(sample(text, 'agent_runs', { agent: 'effects', status: 'completed' })).toBe(1);
    expect(sample(text, 'agent_model_calls', agent)).toBe(2);
    // The scripted model reports 100 tokens in and 20 out a call, at gpt-4o-mini's prices.
    expect(sample(text, 'agent_tokens', { ...agent, direction: 'input' })).toBe(200);
    expect(sample(text, 'agent_tokens', { ...agent, direction: 'output' })).toBe(40);
    expect(sample(text, 'agent_cost_usd_sum', agent)).toBeCloseTo(2 * (100 * 0.15 + 20 * 0.6) * 1e-6, 9);
    expect(sample(text, 'agent_tool_calls', { agent: 'effects', tool: 'record_effect', outcome: 'ok' })).toBe(1);
    // And the SDK's own metrics, beside them.
    expect(text).toMatch(/^temporal_workflow_completed\{/m);
  });

  it('joins a Worker Deployment version from WORKER_DEPLOYMENT_NAME and WORKER_BUILD_ID; a run on it completes, pinned', async () => {
    const { env } = await fleetEnv({ EFFECT_DELAY_MS: '0' });
    const deploymentName = `agents-${randomUUID().slice(0, 8)}`;
    await spawnRole(env, 'all', { WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID: 'build-1' });
    const cli = (...args: string[]) =>
      execFileSync(temporalBinary(), ['worker', 'deployment', ...args, '--address', env.TEMPORAL_ADDRESS], {
        encoding: 'utf8',
      });
    const versionArgs = ['--deployment-name', deploymentName, '--build-id', 'build-1'];
    // The server knows the version once the worker polls with it; then it is made current.
    await eventually(() => {
      try {
        return cli('describe-version', ...versionArgs, '-o', 'json');
      } catch {
        return undefined;
      }
    }, 'the server to know the version');
    cli('set-current-version', ...versionArgs, '--yes');
    const handle = await startRun(env);
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Recorded.', steps: 2 });
    const described = await handle.describe();
    expect(described.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion).toMatchObject({
      deploymentName,
      buildId: 'build-1',
    });
    expect(described.raw.workflowExecutionInfo?.versioningInfo?.behavior).toBe(
      temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_PINNED,
    );
  });

  it('reports agent_approvals_waiting: the runs of an agent waiting for a person, fleet-wide', async () => {
    const model = await processes.startModel((request) =>
      turnOf(request) === 0
        ? reply.tools([{ name: 'pay_refund', args: { orderId: '1042' } }])
        : reply.text('Refunded.'),
    );
    // An agent only this test runs: the gauge counts the namespace's runs, and other files share it.
    const env = workerEnv({ OPENAI_BASE_URL: model.baseUrl, AGENT_MODULES: 'test/support/gauge-agent.ts' });
    const metricsPort = await freePort();
    await spawnRole(env, 'all', { METRICS_PORT: String(metricsPort) });
    const waiting = async () =>
      sample(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(), 'agent_approvals_waiting', {
        agent: 'gauged',
      });
    const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: env.TASK_QUEUE,
      workflowId: `fleet-${randomUUID()}`,
      args: [{ agent: 'gauged', message: 'Refund order 1042, it came late.' }],
    });
    await eventually(async () => (await waiting()) === 1, 'one run to be counted as waiting');
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1', approve: true }] });
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Refunded.' });
    await eventually(async () => (await waiting()) === 0, 'no run to be counted as waiting');
  });
});

describe('a waiting command when a tools worker dies mid-call', () => {
  it('says the worker stopped mid-call and what the next attempt waits for, as status does', async () => {
    const { effects, env } = await fleetEnv({ EFFECT_DELAY_MS: '60000' });
    await spawnRole(env, 'workflows');
    await spawnRole(env, 'model');
    const tools = await spawnRole(env, 'tools');
    const handle = await startRun(env);
    const cliEnv = { TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS, TASK_QUEUE: env.TASK_QUEUE };
    // `result` off a terminal: its live line, a line per change, on stderr.
    const waiting = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', 'result', handle.workflowId], {
      cwd: join(__dirname, '..', '..'),
      env: { PATH: process.env.PATH!, ...cliEnv },
    });
    let stderr = '';
    waiting.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise((resolve) => waiting.once('exit', resolve));
    await eventually(() => jsonLines(effects).length === 1, 'the tool to record its effect');
    await eventually(() => stderr.includes('running record_effect'), 'the live line to show the tool running');
    tools.child.kill('SIGKILL');
    expect(await tools.exited).toBe('SIGKILL');

    // After the tool's heartbeat timeout (10 s) the call is retried: no tools worker is left to take it.
    const queue = `${env.TASK_QUEUE}-tools`;
    const lost =
      'tool record_effect: its worker stopped mid-call (no heartbeat within 10 s); attempt 2 of 3 waiting for a ' +
      `tools worker on ${queue} — TOOL_TASK_QUEUE=${queue} WORKER_ROLE=tools npm run worker`;
    await eventually(() => stderr.includes(lost), 'the live line to say the worker stopped', 40_000).catch((error) => {
      throw new Error(`${(error as Error).message}:\n${stderr}`);
    });
    expect(stderr).not.toMatch(/Heartbeat timeout/);
    const status = await runCli(['status', handle.workflowId], cliEnv);
    expect(status.stdout.split('\n')).toContain(`  tool record_effect: ${lost.slice('tool record_effect: '.length)}`);

    // A tools worker comes: the retry runs there, and the wait ends with the result.
    await spawnRole(env, 'tools', { EFFECT_DELAY_MS: '0' });
    expect(await handle.result()).toMatchObject({ status: 'completed' });
    expect(await exited).toBe(0);
  }, 120_000);
});

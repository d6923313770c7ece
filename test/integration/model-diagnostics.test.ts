/**
 * What a worker process says about its model (issue #12): which model, where and whether a key is set
 * in its first lines; a failure that names the endpoint and the cause; one log line per failed
 * attempt, without stacks or task tokens; and never the key.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowType } from '../../src/contract';
import { ErrorType } from '../../src/errors';
import { reply } from '../../testing';
import type { agentRun } from '../../workflows';
import { formatLogEntry } from '../../runtime/logging';
import { freePort } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { workerEnv } from '../support/harness';
import { runFailureOf } from '../support/outcomes';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const processes = useWorkerProcesses();

const lines = (worker: WorkerProcess) => worker.output().split('\n');

/** The lines of the worker's output that report a failed attempt. */
const attemptLines = (worker: WorkerProcess) => lines(worker).filter((line) => /\battempt \d/.test(line));

describe("a worker's model diagnostics", () => {
  it('name the model, the endpoint and whether a key is set in the lines before it polls, never the key or URL secrets', async () => {
    const key = `sk-diagnostics-${randomUUID()}`;
    const withKey = processes.spawn(
      workerEnv({ OPENAI_API_KEY: key, OPENAI_BASE_URL: 'http://ada:url-s3cret@127.0.0.1:1/v1?api-key=query-s3cret' }),
    );
    const withoutKey = processes.spawn(workerEnv());
    await Promise.all([waitUntilPolling(withKey), waitUntilPolling(withoutKey)]);

    const polling = (worker: WorkerProcess) => lines(worker).findIndex((line) => line.startsWith('worker: polling'));
    expect(lines(withKey)[polling(withKey) - 1]).toBe(
      'worker: model gpt-4o-mini at http://127.0.0.1:1/v1 (OPENAI_API_KEY set)',
    );
    // Unset, OPENAI_BASE_URL is the client's own default.
    expect(lines(withoutKey)[polling(withoutKey) - 1]).toBe(
      'worker: model gpt-4o-mini at https://api.openai.com/v1 (no OPENAI_API_KEY)',
    );
    expect(withKey.output()).not.toContain(key);
    expect(withKey.output()).not.toMatch(/s3cret|ada:/);
  });

  it('an unreachable endpoint fails the run naming the URL and the cause, with one log line per attempt', async () => {
    const key = `sk-diagnostics-${randomUUID()}`;
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}/v1`;
    // Its 2 attempts, and no outage budget after them (MODEL_UNAVAILABLE_SECONDS=1).
    const env = workerEnv({
      OPENAI_BASE_URL: endpoint,
      OPENAI_API_KEY: key,
      MODEL_MAX_ATTEMPTS: '2',
      MODEL_UNAVAILABLE_SECONDS: '1',
    });
    const worker = processes.spawn(env);
    await waitUntilPolling(worker);

    const workflowId = `unreachable-${randomUUID()}`;
    const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: env.TASK_QUEUE,
      workflowId,
      args: [{ agent: 'helpdesk', message: 'Where is order 1042?' }],
    });
    const failure = await runFailureOf(handle);
    expect(failure.type).toBe(ErrorType.ModelUnreachable);
    expect(failure.message).toBe(`model endpoint ${endpoint} unreachable: ECONNREFUSED 127.0.0.1:${port}`);

    await eventually(() => attemptLines(worker).length >= 2, 'both failed attempts in the log');
    const why = `model endpoint ${endpoint} unreachable: ECONNREFUSED 127.0.0.1:${port}`;
    expect(attemptLines(worker)).toEqual([
      expect.stringMatching(/^\S+ \[WARN\] /),
      expect.stringMatching(/^\S+ \[WARN\] /),
    ]);
    expect(attemptLines(worker).map((line) => line.replace(/^\S+ \[WARN\] /, ''))).toEqual([
      `model call failed (attempt 1/2, step 1, gpt-4o-mini, workflow ${workflowId}): ${why}`,
      `model call failed (attempt 2/2, step 1, gpt-4o-mini, workflow ${workflowId}): ${why}`,
    ]);
    const output = worker.output();
    expect(output).not.toContain('taskToken');
    expect(output).not.toContain('Activity failed');
    expect(output).not.toMatch(/^ {4}at /m);
    expect(output).not.toContain(key);
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain(key);
  });

  it('a model that never answers: the failure names the request timeout; at DEBUG the log adds the client error with its stack', async () => {
    const model = await processes.startModel(() => reply.hang());
    const env = workerEnv({
      OPENAI_BASE_URL: model.baseUrl,
      MODEL_TIMEOUT_SECONDS: '1',
      MODEL_MAX_ATTEMPTS: '1',
      MODEL_UNAVAILABLE_SECONDS: '1',
      WORKER_LOG_LEVEL: 'debug',
    });
    const worker = processes.spawn(env);
    await waitUntilPolling(worker);

    const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: env.TASK_QUEUE,
      workflowId: `timeout-${randomUUID()}`,
      args: [{ agent: 'helpdesk', message: 'Where is order 1042?' }],
    });
    const failure = await runFailureOf(handle);
    expect(failure.type).toBe(ErrorType.ModelUnreachable);
    expect(failure.message).toBe(`model endpoint ${model.baseUrl} unreachable: timed out after 1000 ms`);

    await eventually(() => attemptLines(worker).length >= 1, 'the failed attempt in the log');
    expect(attemptLines(worker)).toEqual([
      expect.stringMatching(
        /\[WARN\] model call failed \(attempt 1\/1, step 1, gpt-4o-mini, .*\): .* timed out after 1000 ms$/,
      ),
    ]);
    const output = worker.output();
    expect(output).toMatch(
      /\[DEBUG\] model call error .*error: APIConnectionTimeoutError: Request timed out\.\n {6}at /s,
    );
    expect(output).not.toContain('taskToken');
  });

  it('refuses to start with a WORKER_LOG_LEVEL it does not know, in one line', async () => {
    const worker = processes.spawn(workerEnv({ WORKER_LOG_LEVEL: 'verbose' }));
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toBe(
      'worker: invalid environment: WORKER_LOG_LEVEL must be one of TRACE, DEBUG, INFO, WARN, ERROR\n',
    );
  });
});

describe('the worker log format', () => {
  const timestampNanos = BigInt(Date.parse('2025-01-01T12:00:00Z')) * 1_000_000n;
  const activity = {
    sdkComponent: 'worker',
    attempt: 3,
    maxAttempts: 5,
    taskToken: 'Q2lRd01XRXlNRFUyWVMxbU5tVmtMVGRsWW1RdE9UQmxOUzB4TlRVMk1qaG1NREF6TlRN',
    activityId: '7',
    workflowId: 'helpdesk-1',
    agent: 'helpdesk',
  };
  const failure = Object.assign(new Error('Tool lookup failed: an unexpected error occurred'), { stack: '' });

  it('gives any failed activity attempt one line without its task token', () => {
    const line = formatLogEntry({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos,
      meta: { ...activity, activityType: 'runTool', tool: 'lookup', callId: '2.1', error: failure, durationMs: 3 },
    });
    expect(line).toBe(
      '2025-01-01T12:00:00.000Z [WARN] activity runTool failed (attempt 3/5, tool lookup, call 2.1, workflow helpdesk-1): ' +
        'Tool lookup failed: an unexpected error occurred',
    );
  });

  it('says only the attempt when attempts are unlimited', () => {
    const { maxAttempts: _unlimited, ...meta } = activity;
    const line = formatLogEntry({
      level: 'WARN',
      message: 'Activity failed',
      timestampNanos,
      meta: { ...meta, activityType: 'callModel', model: 'gpt-4o-mini', step: 2, error: new Error('boom') },
    });
    expect(line).toMatch(/ model call failed \(attempt 3, step 2, gpt-4o-mini, workflow helpdesk-1\): boom$/);
  });

  it('prints other entries on one line, without a task token', () => {
    const line = formatLogEntry({ level: 'INFO', message: 'Activity heartbeat', timestampNanos, meta: activity });
    expect(line).toMatch(/^2025-01-01T12:00:00\.000Z \[INFO\] Activity heartbeat \{ sdkComponent: 'worker', .*\}$/);
    expect(line).not.toContain('taskToken');
    expect(formatLogEntry({ level: 'INFO', message: 'Worker state changed', timestampNanos })).toBe(
      '2025-01-01T12:00:00.000Z [INFO] Worker state changed',
    );
  });
});

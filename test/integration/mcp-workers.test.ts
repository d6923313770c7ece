/**
 * MCP servers on real worker processes (issue #26): many runs sharing one stdio server per worker
 * and one listing, a worker SIGKILLed during a slow MCP call, the server process killed mid-call,
 * and a server that does not answer. The servers are real ones (server-filesystem,
 * server-everything) behind the logging proxy, whose log is what the server received.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowType } from '../../src/contract';
import type { agentRun } from '../../workflows';
import { byTurn, lastOf, reply } from '../../testing';
import { eventually } from '../support/eventually';
import { tempPath, workerEnv } from '../support/harness';
import { EVERYTHING_SERVER, FILESYSTEM_SERVER, LOGGING_PROXY, readProxyLog, requestsOf } from '../support/mcp-servers';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const processes = useWorkerProcesses();

const IDEMPOTENCY_KEY = 'durable-agents/idempotencyKey';

/** Env for workers of one task queue running test/fixtures/mcp-agents.mjs, each server logging to its own file. */
function mcpWorkerEnv(baseUrl: string) {
  const folder = tempPath('mcp-folder');
  mkdirSync(folder, { recursive: true });
  writeFileSync(join(folder, 'a.txt'), 'a');
  return workerEnv({
    OPENAI_BASE_URL: baseUrl,
    AGENT_MODULES: 'test/fixtures/mcp-agents.mjs',
    MCP_NODE: process.execPath,
    MCP_PROXY: LOGGING_PROXY,
    MCP_FS_SERVER: FILESYSTEM_SERVER,
    MCP_EVERYTHING_SERVER: EVERYTHING_SERVER,
    MCP_FS_FOLDER: folder,
    MCP_FS_LOG: tempPath('fs.jsonl'),
    MCP_EVERYTHING_LOG: tempPath('everything.jsonl'),
    MCP_IMPATIENT_LOG: tempPath('impatient.jsonl'),
    MCP_LIST_TTL_SECONDS: '300',
  });
}

type Env = ReturnType<typeof mcpWorkerEnv>;

function start(env: Env, agent: string, message: string) {
  return processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
    taskQueue: env.TASK_QUEUE,
    workflowId: `mcp-${randomUUID()}`,
    args: [{ agent, message }],
  });
}

async function spawnPolling(env: Env) {
  const worker = processes.spawn(env);
  await waitUntilPolling(worker);
  return worker;
}

describe('MCP servers on worker processes', () => {
  it('50 runs at once on two workers: one server process and at most one tools/list per worker', async () => {
    const model = await processes.startModel(
      byTurn([reply.tools([{ name: 'fs_list_directory', args: { path: '.' } }]), reply.text('Listed.')]),
    );
    const env = mcpWorkerEnv(model.baseUrl);
    const workers = await Promise.all([spawnPolling(env), spawnPolling(env)]);
    const handles = await Promise.all(Array.from({ length: 50 }, () => start(env, 'mcp-files', 'list the folder')));
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.every((result) => result.status === 'completed' && result.output === 'Listed.')).toBe(true);

    const log = readProxyLog(env.MCP_FS_LOG);
    const workerPids = workers.map((worker) => worker.child.pid);
    const starts = log.filter((entry) => entry.event === 'start');
    // Started on first use, once per worker that took a call (the tools queue may give one worker all 50).
    expect(starts.length).toBeGreaterThanOrEqual(1);
    expect(starts.length).toBeLessThanOrEqual(2);
    expect(new Set(starts.map((entry) => entry.workerPid)).size).toBe(starts.length);
    for (const entry of starts) expect(workerPids).toContain(entry.workerPid);
    const lists = requestsOf(env.MCP_FS_LOG, 'tools/list');
    expect(lists.length).toBeGreaterThanOrEqual(1);
    expect(lists.length).toBeLessThanOrEqual(workers.length);
    expect(requestsOf(env.MCP_FS_LOG, 'tools/call')).toHaveLength(50);
  });

  it('a worker SIGKILLed during a slow MCP call: another worker retries it with the same _meta key', async () => {
    const model = await processes.startModel(
      byTurn([
        reply.tools([{ name: 'everything_trigger-long-running-operation', args: { duration: 3, steps: 3 } }]),
        reply.text('Done.'),
      ]),
    );
    const env = mcpWorkerEnv(model.baseUrl);
    const workers = await Promise.all([spawnPolling(env), spawnPolling(env)]);
    const handle = await start(env, 'mcp-slow', 'run the long operation');
    const [first] = await eventually(() => {
      const calls = requestsOf(env.MCP_EVERYTHING_LOG, 'tools/call');
      return calls.length ? calls : undefined;
    }, 'the call to reach a server');
    const victim = workers.find((worker) => worker.child.pid === first.workerPid)!;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');

    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Done.' });
    const calls = requestsOf(env.MCP_EVERYTHING_LOG, 'tools/call');
    expect(calls).toHaveLength(2);
    const survivor = workers.find((worker) => worker !== victim)!;
    expect(calls.map((call) => call.workerPid)).toEqual([victim.child.pid, survivor.child.pid]);
    const key = `${handle.workflowId}/${handle.firstExecutionRunId}/1.1`;
    expect(calls.map((call) => call.meta?.[IDEMPOTENCY_KEY])).toEqual([key, key]);
    expect(lastOf(model.requests.at(-1)!, 'tool')!.content).toBe(
      'Long running operation completed. Duration: 3 seconds, Steps: 3.',
    );
  });

  it('the stdio server killed mid-call: started again, and the call retried', async () => {
    const model = await processes.startModel(
      byTurn([
        reply.tools([{ name: 'everything_trigger-long-running-operation', args: { duration: 3, steps: 3 } }]),
        reply.text('Done.'),
      ]),
    );
    const env = mcpWorkerEnv(model.baseUrl);
    const worker = await spawnPolling(env);
    const handle = await start(env, 'mcp-slow', 'run the long operation');
    await eventually(() => requestsOf(env.MCP_EVERYTHING_LOG, 'tools/call').length > 0, 'the call to reach the server');
    const [started] = readProxyLog(env.MCP_EVERYTHING_LOG).filter((entry) => entry.event === 'start');
    process.kill(started.serverPid!, 'SIGKILL');

    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Done.' });
    const log = readProxyLog(env.MCP_EVERYTHING_LOG);
    const starts = log.filter((entry) => entry.event === 'start');
    expect(starts).toHaveLength(2);
    expect(starts.every((entry) => entry.workerPid === worker.child.pid)).toBe(true);
    const calls = requestsOf(env.MCP_EVERYTHING_LOG, 'tools/call');
    expect(calls.map((call) => call.proxyPid)).toEqual(starts.map((entry) => entry.proxyPid));
    expect(new Set(calls.map((call) => call.meta?.[IDEMPOTENCY_KEY])).size).toBe(1);
    expect(lastOf(model.requests.at(-1)!, 'tool')!.content).toContain('Long running operation completed.');

    // SIGTERM: the worker drains, then stops the server it started.
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    const exits = readProxyLog(env.MCP_EVERYTHING_LOG).filter((entry) => entry.event === 'exit');
    expect(exits.map((entry) => entry.proxyPid)).toEqual(starts.map((entry) => entry.proxyPid));
  });

  it('a run cancelled during an MCP call cancels the request at the server', async () => {
    const model = await processes.startModel(
      byTurn([
        reply.tools([{ name: 'everything_trigger-long-running-operation', args: { duration: 20, steps: 20 } }]),
        reply.text('Done.'),
      ]),
    );
    const env = mcpWorkerEnv(model.baseUrl);
    await spawnPolling(env);
    const handle = await start(env, 'mcp-slow', 'run the long operation');
    const [call] = await eventually(() => {
      const calls = requestsOf(env.MCP_EVERYTHING_LOG, 'tools/call');
      return calls.length ? calls : undefined;
    }, 'the call to reach the server');
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    const [cancelled] = await eventually(
      () => {
        const notices = requestsOf(env.MCP_EVERYTHING_LOG, 'notifications/cancelled');
        return notices.length ? notices : undefined;
      },
      'the server to be told',
      10_000,
    );
    expect(cancelled).toMatchObject({ cancelled: call.id });
    expect(model.requests).toHaveLength(1);
  });

  it('a server that does not answer in time: the call times out typed, is cancelled, then the model reads why', async () => {
    const model = await processes.startModel(
      byTurn([
        reply.tools([{ name: 'impatient_trigger-long-running-operation', args: { duration: 30, steps: 2 } }]),
        reply.text('It did not answer.'),
      ]),
    );
    const env = mcpWorkerEnv(model.baseUrl);
    await spawnPolling(env);
    const handle = await start(env, 'mcp-impatient', 'run the long operation');
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'It did not answer.' });
    expect(lastOf(model.requests.at(-1)!, 'tool')!.content).toBe(
      'Error: Tool impatient_trigger-long-running-operation failed: MCP server "impatient" did not answer ' +
        'tools/call trigger-long-running-operation within 2 s',
    );
    // Each attempt's request was cancelled at the server when it timed out.
    expect(requestsOf(env.MCP_IMPATIENT_LOG, 'tools/call')).toHaveLength(2);
    expect(requestsOf(env.MCP_IMPATIENT_LOG, 'notifications/cancelled')).toHaveLength(2);
    const failures = ((await handle.fetchHistory()).events ?? [])
      .map((event) => event.activityTaskFailedEventAttributes?.failure?.applicationFailureInfo?.type)
      .filter(Boolean);
    expect(failures).toEqual(['McpTimeout']);
  });
});

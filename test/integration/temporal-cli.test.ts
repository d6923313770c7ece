import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from '../support/eventually';
import { temporalBinary } from '../support/dev-server';
import { startTestWorker, type TestWorker } from '../support/harness';
import { lastOf, reply, startScriptedModel, type ScriptedModel } from '../../testing';

const run = promisify(execFile);

let binary: string;
let model: ScriptedModel;
let worker: TestWorker;

beforeAll(async () => {
  binary = temporalBinary();
  model = await startScriptedModel((request) => {
    if (request.messages.at(-1)?.role === 'tool') return reply.text('Refunded.');
    const said = lastOf(request, 'user')?.content ?? '';
    return said.startsWith('refund')
      ? reply.tools([{ name: 'issue_refund', args: { orderId: '1046', amountUsd: 35, reason: 'damaged' } }])
      : reply.text(`You said: ${said}`);
  });
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

/** The plain Temporal CLI against the test server, with JSON output. */
async function temporal(...args: string[]): Promise<unknown> {
  const { stdout } = await run(binary, [...args, '--address', worker.config.TEMPORAL_ADDRESS, '-o', 'json']);
  return stdout.trim() ? JSON.parse(stdout) : undefined;
}

const start = (workflowId: string, input: object) =>
  temporal(
    'workflow',
    'start',
    '--task-queue',
    worker.config.TASK_QUEUE,
    '--type',
    'agentRun',
    '--workflow-id',
    workflowId,
    '--input',
    JSON.stringify(input),
  );
/** `temporal workflow update execute`: the update's result. */
const update = async (workflowId: string, name: string, input: object) =>
  (
    (await temporal(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      workflowId,
      '--name',
      name,
      '--input',
      JSON.stringify(input),
    )) as { result: string }
  ).result;
const query = async (workflowId: string) =>
  (
    (await temporal('workflow', 'query', '--workflow-id', workflowId, '--type', 'state')) as {
      queryResult: [Record<string, unknown>];
    }
  ).queryResult[0];

describe('the plain Temporal CLI', () => {
  it('starts a run, queries its state and fetches its result', async () => {
    const id = `tcli-${randomUUID()}`;
    await start(id, { agent: 'helpdesk', message: 'Where is order 1042?' });
    const result = (await temporal('workflow', 'result', '--workflow-id', id)) as { status: string; result: unknown };
    expect(result.status).toBe('COMPLETED');
    expect(result.result).toMatchObject({ status: 'completed', output: 'You said: Where is order 1042?', steps: 1 });
    expect(await query(id)).toMatchObject({ status: 'completed', agent: 'helpdesk', step: 1 });
  });

  it('drives a session with updates (chat, enqueue), list and end, and decides an approval', async () => {
    const id = `tcli-${randomUUID()}`;
    await start(id, { agent: 'helpdesk', message: 'hello', mode: 'session', userId: 'cli-user' });
    expect(await update(id, 'chat', { text: 'how are you?' })).toBe('You said: how are you?');

    expect(await update(id, 'enqueue', { text: 'refund order 1046' })).toMatch(/^queued \(\d+ waiting\)$/);
    await eventually(async () => (await query(id)).status === 'awaiting_approval', 'the approval');
    const listed = await eventually(async () => {
      const runs = (await temporal(
        'workflow',
        'list',
        '--query',
        `AgentStatus="awaiting_approval" AND AgentUser="cli-user" AND WorkflowId="${id}"`,
      )) as unknown[];
      return runs.length ? runs : undefined;
    }, 'the run in the awaiting_approval list');
    expect(listed).toHaveLength(1);

    expect(await update(id, 'approval', { callId: '3.1', approve: true })).toBe('approved issue_refund (3.1)');
    await eventually(async () => (await query(id)).status === 'awaiting_input', 'the turn to finish');
    await temporal('workflow', 'signal', '--workflow-id', id, '--name', 'end');
    const result = (await temporal('workflow', 'result', '--workflow-id', id)) as {
      result: { output: string; steps: number };
    };
    expect(result.result).toMatchObject({ output: 'Refunded.', steps: 4 });
  });

  it("lists agent runs without the users' memory workflows, with the query docs/cli.md gives for the Web UI", async () => {
    const documented = "WorkflowType = 'agentRun'";
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8')).toContain(`\`${documented}\``);
    // A queue nobody polls: both stay open until terminated.
    const queue = `tcli-list-${randomUUID()}`;
    const ids = { run: `tcli-${randomUUID()}`, memory: `memory:tcli-${randomUUID()}` };
    for (const [type, id] of [
      ['agentRun', ids.run],
      ['userMemory', ids.memory],
    ]) {
      await temporal('workflow', 'start', '--task-queue', queue, '--type', type, '--workflow-id', id, '--input', '{}');
    }
    try {
      const listed = async (query: string) =>
        ((await temporal('workflow', 'list', '--query', query)) as { execution: { workflowId: string } }[])
          .map((run) => run.execution.workflowId)
          .sort();
      await eventually(async () => (await listed(`TaskQueue = '${queue}'`)).length === 2, 'both to be listed');
      expect(await listed(`${documented} AND TaskQueue = '${queue}'`)).toEqual([ids.run]);
    } finally {
      for (const id of Object.values(ids)) await temporal('workflow', 'terminate', '--workflow-id', id);
    }
  });
});

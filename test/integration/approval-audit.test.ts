/**
 * Approvals as a production platform keeps them: a tool whose approval depends on its arguments asks
 * only when they call for it, an approval may carry edited arguments (checked against the tool's
 * schema; the tool runs with them), and every decision (who, through which surface, approve or deny,
 * the note, when) is in the run's transcript, every export format and `status`.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { z } from 'zod';
import { AgentClient } from '../../client/agent-client';
import { defineAgent } from '../../src/agent';
import { loadTemporalConfig } from '../../src/config';
import { AgentClientError } from '../../src/errors';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { lastOf, reply, startScriptedModel, type ModelRequest, type ScriptedModel } from '../../testing';
import { runCli } from '../support/cli';
import { temporalBinary } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { timerSummaries } from '../support/history';
import { startTestWorker, testAddress, type TestWorker } from '../support/harness';

/** The transfers the tool made, with the arguments it ran with. */
const transfers: { to: string; amountUsd: number }[] = [];

const transfer = defineTool({
  name: 'transfer',
  description: 'Transfer money to an account.',
  input: z.object({ to: z.string(), amountUsd: z.number().positive() }),
  requiresApproval: (args) => args.amountUsd > 100,
  execute: (args) => {
    transfers.push(args);
    return { transferred: args.amountUsd, to: args.to };
  },
});
const bank = defineAgent({ name: 'bank', instructions: 'Move money as asked.', tools: [transfer] });

let model: ScriptedModel;
let worker: TestWorker;
let client: AgentClient;
let env: Record<string, string>;

beforeAll(async () => {
  model = await startScriptedModel((request) => {
    if (lastOf(request, 'tool')) return reply.text('Done.');
    const amount = Number(/transfer (\d+)/.exec(lastOf(request, 'user')?.content ?? '')?.[1]);
    return reply.tools([{ name: 'transfer', args: { to: 'B-2', amountUsd: amount } }]);
  });
  env = { TEMPORAL_ADDRESS: testAddress(), TASK_QUEUE: `approvals-${randomUUID()}` };
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, ...env }, new AgentRegistry().add([bank], 'test'));
  client = await AgentClient.connect(loadTemporalConfig(env));
});
afterAll(async () => {
  await client?.close();
  await worker?.stop();
  await model?.close();
});

async function awaitingApproval(message: string): Promise<string> {
  const id = await client.start({ agent: 'bank', message });
  await eventually(async () => (await client.state(id)).pendingApprovals.length === 1, 'the call to await approval');
  return id;
}

/** The tool message of the request the model got after the call ran. */
function toolResultOf(message: string): string {
  const request = model.requests.find(
    (candidate: ModelRequest) =>
      candidate.messages.some((m) => m.role === 'user' && m.content === message) && lastOf(candidate, 'tool'),
  );
  return String(lastOf(request!, 'tool')!.content);
}

describe('approval by the value of the arguments', () => {
  it('asks only above the threshold: below it the tool runs without asking', async () => {
    const below = await client.start({ agent: 'bank', message: 'transfer 50' });
    expect(await client.result(below)).toMatchObject({ status: 'completed', output: 'Done.' });
    expect(transfers).toContainEqual({ to: 'B-2', amountUsd: 50 });
    const belowHandle = worker.client.workflow.getHandle(below);
    expect(await timerSummaries(belowHandle)).toEqual([]);

    const above = await awaitingApproval('transfer 500');
    expect((await client.state(above)).pendingApprovals).toEqual([
      { callId: '1.1', tool: 'transfer', args: { to: 'B-2', amountUsd: 500 } },
    ]);
    expect(transfers).not.toContainEqual({ to: 'B-2', amountUsd: 500 });
    await client.decide(above, { callId: '1.1', approve: false, note: 'too much' });
    expect(await client.result(above)).toMatchObject({ status: 'completed' });
  });
});

describe('an approval with edited arguments', () => {
  it('runs the tool with them; arguments the schema rejects leave the call waiting', async () => {
    const id = await awaitingApproval('transfer 900');
    const rejected = await client
      .decide(id, { callId: '1.1', approve: true, args: { to: 'B-2', amountUsd: 'lots' } })
      .catch((error: unknown) => error);
    expect(rejected).toBeInstanceOf(AgentClientError);
    expect(rejected).toMatchObject({ kind: 'rejected' });
    expect((rejected as Error).message).toMatch(/^rejected: Invalid arguments for tool "transfer": amountUsd: /);
    // Edits come with an approval only: refused before anything is sent.
    await expect(client.decide(id, { callId: '1.1', approve: false, args: { amountUsd: 1 } })).rejects.toMatchObject({
      kind: 'invalid_input',
    });
    expect((await client.state(id)).pendingApprovals.map((pending) => pending.callId)).toEqual(['1.1']);

    expect(
      await client.decide(id, {
        callId: '1.1',
        approve: true,
        args: { to: 'B-2', amountUsd: 150 },
        note: 'ok by ops, 150 at most',
        decidedBy: 'ada',
      }),
    ).toBe('approved transfer (1.1) with edited arguments');
    expect(await client.result(id)).toMatchObject({ status: 'completed', output: 'Done.' });
    expect(transfers).toContainEqual({ to: 'B-2', amountUsd: 150 });
    expect(transfers).not.toContainEqual({ to: 'B-2', amountUsd: 900 });
    // The model reads what the approver changed and said, with the result.
    expect(toolResultOf('transfer 900')).toBe(
      'A person approved this call with edited arguments: it ran with {"to":"B-2","amountUsd":150}, not yours. ' +
        'Their note: "ok by ops, 150 at most"\nResult: {"transferred":150,"to":"B-2"}',
    );
    const [decision] = (await client.transcript(id)).approvals;
    expect(decision).toMatchObject({
      callId: '1.1',
      tool: 'transfer',
      approved: true,
      note: 'ok by ops, 150 at most',
      args: { to: 'B-2', amountUsd: 150 },
      decidedBy: 'ada',
      via: 'client',
    });
    expect(decision.toolCallId).toEqual(expect.any(String));
    expect(Date.parse(decision.at)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('the audit trail', () => {
  it('transcript, every export format and status show an approval with its note, who and where', async () => {
    const id = await awaitingApproval('transfer 700');
    expect(await runCli(['approve', id, '1.1', '--note', 'ok by ops', '--by', 'bob'], env)).toMatchObject({
      code: 0,
      stdout: 'approved transfer (1.1)\n',
    });
    await client.result(id);

    const transcript = await runCli(['transcript', id], env);
    expect(transcript.code).toBe(0);
    expect(transcript.stdout).toMatch(
      / {2}→ transfer\(\{"to":"B-2","amountUsd":700\}\)\n {2}✓ 1\.1 approved by bob via cli at \d{4}-\S+Z · note: ok by ops\n {2}← /,
    );
    const markdown = (await runCli(['export', id, '--format', 'md'], env)).stdout;
    expect(markdown).toMatch(/- \*\*approved\*\* call 1\.1 `transfer` by bob via cli at \S+\n {2}- note: ok by ops/);
    const lines = (await runCli(['export', id, '--format', 'jsonl'], env)).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.find((line) => line.type === 'approval')).toMatchObject({
      callId: '1.1',
      tool: 'transfer',
      approved: true,
      note: 'ok by ops',
      decidedBy: 'bob',
      via: 'cli',
    });
    const request = JSON.parse((await runCli(['export', id, '--format', 'openai'], env)).stdout) as {
      messages: { role: string; content: string }[];
    };
    const tool = request.messages.find((message) => message.role === 'tool')!;
    expect(tool.content).toMatch(/^A person approved this call\. Their note: "ok by ops"\nResult: \{"transferred":700/);

    const status = await runCli(['status', id], env);
    expect(status.stdout).toMatch(
      /\napprovals:\n {2}1\.1 {2}transfer {2}approved by bob via cli at \S+ · note: ok by ops$/m,
    );
    // Seven CLI processes, each a Node start and a connection: on a busy 2-core machine, past 60 s.
  }, 150_000);

  it('records a call nobody decided in time as denied by the run', async () => {
    const id = await client.start({ agent: 'bank', message: 'transfer 300', approvalTimeoutSeconds: 1 });
    await client.result(id);
    expect((await client.transcript(id)).approvals).toEqual([
      expect.objectContaining({ callId: '1.1', tool: 'transfer', approved: false, via: 'timeout' }),
    ]);
  });

  it('records a decision sent with the plain Temporal CLI, and a denial with its note', async () => {
    const id = await awaitingApproval('transfer 800');
    // Asynchronously: the worker deciding runs in this process.
    await promisify(execFile)(temporalBinary(), [
      'workflow',
      'update',
      'execute',
      '--address',
      env.TEMPORAL_ADDRESS,
      '--workflow-id',
      id,
      '--name',
      'approval',
      '--input',
      '{"callId": "1.1", "approve": false, "note": "not today"}',
    ]);
    await client.result(id);
    expect((await client.transcript(id)).approvals).toEqual([
      expect.objectContaining({
        callId: '1.1',
        tool: 'transfer',
        approved: false,
        note: 'not today',
        via: 'temporal-cli',
        identity: expect.stringMatching(/^temporal-cli/),
      }),
    ]);
  });
});

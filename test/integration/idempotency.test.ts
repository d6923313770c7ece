/**
 * Idempotency keys (issue #8), `<workflowId>/<firstExecutionRunId>/<callId>`: two runs reusing one
 * workflow id get different keys, while a retry and a continue-as-new keep a call's key. (A worker
 * crash keeping it is proven in worker-process.test.ts.)
 */
import { randomUUID } from 'node:crypto';
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import { chatUpdate, endSignal } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { lastOf, reply, startScriptedModel, type ModelRequest, type ScriptedModel } from '../../testing';
import { startDevServer, stopDevServer, type DevServer } from '../support/dev-server';
import { startTestWorker, type TestWorker } from '../support/harness';

/** One invocation of a tool, as the tool saw it (the worker runs in this process). */
interface Invocation {
  tool: string;
  note: string;
  key: string;
  attempt: number;
  workflowId: string;
  /** The run that scheduled the call (not part of the tool's context: read from the activity's). */
  runId: string;
}
const invocations: Invocation[] = [];

function record(tool: string, note: string, ctx: { idempotencyKey: string; attempt: number; workflowId: string }) {
  invocations.push({
    tool,
    note,
    key: ctx.idempotencyKey,
    attempt: ctx.attempt,
    workflowId: ctx.workflowId,
    runId: Context.current().info.workflowExecution!.runId,
  });
}

const recordKey = defineTool({
  name: 'record_key',
  description: 'Records the call and returns its idempotency key.',
  input: z.object({ note: z.string() }),
  execute({ note }, ctx) {
    record('record_key', note, ctx);
    return { key: ctx.idempotencyKey };
  },
});

const flakyKey = defineTool({
  name: 'flaky_key',
  description: 'Fails on its first attempt, then returns its idempotency key.',
  input: z.object({ note: z.string() }),
  retry: { maximumAttempts: 3, initialInterval: '200ms' },
  execute({ note }, ctx) {
    record('flaky_key', note, ctx);
    if (ctx.attempt === 1) throw new Error('connection reset');
    return { key: ctx.idempotencyKey };
  },
});

const agent = defineAgent({
  name: 'keys',
  instructions: 'Record every message with a tool.',
  tools: [recordKey, flakyKey],
});

// A server of its own, as in continue-as-new.test.ts: it suggests continue-as-new after 40 events
// instead of ~4,000. Task runs never continue as new, so the other cases run on it too.
let server: DevServer;
let model: ScriptedModel;
let worker: TestWorker;

beforeAll(async () => {
  server = await startDevServer(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40']);
  model = await startScriptedModel((request) => {
    const said = lastOf(request, 'user')?.content ?? '';
    if (request.messages.at(-1)?.role === 'tool') return reply.text(`recorded: ${said}`, { input: 10, output: 2 });
    // Each call has arguments of its own (the message), so none repeats another.
    const tool = said.startsWith('flaky') ? 'flaky_key' : 'record_key';
    return reply.tools([{ name: tool, args: { note: said } }], { input: 10, output: 2 });
  });
  worker = await startTestWorker(
    { TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: model.baseUrl },
    new AgentRegistry().add([agent], 'test'),
  );
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
  if (server) await stopDevServer(server.process);
});

const invocationsOf = (workflowId: string) => invocations.filter((invocation) => invocation.workflowId === workflowId);

/** The tool results the model read in `request`. */
const toolResults = (request: ModelRequest) =>
  request.messages.filter((message) => message.role === 'tool').map((message) => JSON.parse(message.content));

describe('idempotency keys', () => {
  it('differ between two runs that reuse one workflow id, each naming its own first run', async () => {
    const workflowId = `reuse-${randomUUID()}`;
    const first = await worker.start({ agent: agent.name, message: 'record first run' }, workflowId);
    expect(await first.result()).toMatchObject({ status: 'completed', output: 'recorded: record first run' });
    const second = await worker.start({ agent: agent.name, message: 'record second run' }, workflowId);
    expect(await second.result()).toMatchObject({ status: 'completed', output: 'recorded: record second run' });
    expect(second.firstExecutionRunId).not.toBe(first.firstExecutionRunId);

    const [one, two] = invocationsOf(workflowId);
    expect(invocationsOf(workflowId)).toHaveLength(2);
    expect(one).toMatchObject({ note: 'record first run', runId: first.firstExecutionRunId, attempt: 1 });
    expect(two).toMatchObject({ note: 'record second run', runId: second.firstExecutionRunId, attempt: 1 });
    expect(one.key).toBe(`${workflowId}/${first.firstExecutionRunId}/1.1`);
    expect(two.key).toBe(`${workflowId}/${second.firstExecutionRunId}/1.1`);
    expect(two.key).not.toBe(one.key);
    // What the tool returned reached the model.
    const results = model.requests
      .filter((request) => request.messages.at(-1)?.role === 'tool')
      .flatMap(toolResults)
      .filter((result) => result.key?.startsWith(`${workflowId}/`));
    expect(results).toEqual([{ key: one.key }, { key: two.key }]);
  });

  it('stay the same when a tool call is retried', async () => {
    const handle = await worker.start({ agent: agent.name, message: 'flaky call' });
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'recorded: flaky call', steps: 2 });
    const key = `${handle.workflowId}/${handle.firstExecutionRunId}/1.1`;
    expect(invocationsOf(handle.workflowId).map(({ attempt, key }) => ({ attempt, key }))).toEqual([
      { attempt: 1, key },
      { attempt: 2, key },
    ]);
    const lastRequest = model.requests.filter((request) => lastOf(request, 'user')?.content === 'flaky call').at(-1)!;
    expect(toolResults(lastRequest)).toEqual([{ key }]);
  });

  it("stay on the first run's id through continue-as-new", async () => {
    const handle = await worker.start({ agent: agent.name, message: 'turn 0', mode: 'session' });
    const firstRunId = handle.firstExecutionRunId;
    const turns = 6;
    for (let turn = 1; turn < turns; turn++) {
      expect(await handle.executeUpdate(chatUpdate, { args: [{ text: `turn ${turn}` }] })).toBe(
        `recorded: turn ${turn}`,
      );
    }
    const latestRunId = (await handle.describe()).runId;
    expect(latestRunId).not.toBe(firstRunId);

    const calls = invocationsOf(handle.workflowId);
    // Turn k makes its tool call in step 2k+1; steps carry across continue-as-new.
    expect(calls.map(({ note, key, attempt }) => ({ note, key, attempt }))).toEqual(
      Array.from({ length: turns }, (_, turn) => ({
        note: `turn ${turn}`,
        key: `${handle.workflowId}/${firstRunId}/${2 * turn + 1}.1`,
        attempt: 1,
      })),
    );
    // Calls were made by later runs of the chain too, and no key names any of them.
    const laterRunIds = [...new Set([...calls.map((call) => call.runId), latestRunId])].filter(
      (id) => id !== firstRunId,
    );
    expect(laterRunIds.length).toBeGreaterThan(0);
    expect(calls.filter((call) => call.runId !== firstRunId).length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.key).toContain(firstRunId);
      for (const runId of laterRunIds) expect(call.key).not.toContain(runId);
    }

    await handle.signal(endSignal);
    expect(await handle.result()).toMatchObject({ status: 'completed', output: `recorded: turn ${turns - 1}` });
  });
});

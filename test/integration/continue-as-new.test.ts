import { defaultPayloadConverter } from '@temporalio/common';
import { chatUpdate, endSignal, stateQuery } from '../../src/contract';
import { startDevServer, stopDevServer, type DevServer } from '../support/dev-server';
import { startTestWorker, type TestWorker } from '../support/harness';
import { lastOf, reply, startScriptedModel, type ScriptedModel } from '../../testing';

// A server of its own: it suggests continue-as-new after 40 events instead of ~4,000.
let server: DevServer;
let model: ScriptedModel;
let worker: TestWorker;

beforeAll(async () => {
  server = await startDevServer(['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40']);
  model = await startScriptedModel((request) =>
    reply.text(`re: ${lastOf(request, 'user')?.content}`, { input: 10, output: 2 }),
  );
  worker = await startTestWorker({ TEMPORAL_ADDRESS: server.address, OPENAI_BASE_URL: model.baseUrl });
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
  if (server) await stopDevServer(server.process);
});

describe('a long session', () => {
  it('continues as new between turns, keeping transcript, steps and usage, and still answers', async () => {
    const handle = await worker.start({ agent: 'helpdesk', message: 'turn 0', mode: 'session' });
    const firstRunId = (await handle.describe()).runId;
    const replies: unknown[] = [];
    for (let turn = 1; turn <= 8; turn++) {
      replies.push(await handle.executeUpdate(chatUpdate, { args: [{ text: `turn ${turn}` }] }));
    }
    expect(replies).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((turn) => `re: turn ${turn}`));

    const latest = await handle.describe();
    expect(latest.runId).not.toBe(firstRunId);
    // The runs it continued from closed as continued, never marked failed on the way.
    const first = await worker.client.workflow.getHandle(handle.workflowId, firstRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    const { events } = await worker.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    const statuses = (events ?? [])
      .flatMap((event) =>
        Object.entries(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
      )
      .filter(([name]) => name === 'AgentStatus')
      .map(([, payload]) => defaultPayloadConverter.fromPayload(payload));
    expect(statuses).not.toContain('failed');
    // It says it handed over, so `list` and the Web UI never show it still waiting for input.
    expect(statuses.at(-1)).toBe('continued');
    const state = await handle.query(stateQuery);
    expect(state.step).toBe(9);
    expect(state.messages.filter((message) => message.role === 'user').map((message) => message.content)).toEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 8].map((turn) => `turn ${turn}`),
    );
    expect(state.messages.filter((message) => message.role === 'system')).toHaveLength(1);

    await handle.signal(endSignal);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 're: turn 8', steps: 9 });
    expect(result.usage).toMatchObject({ inputTokens: 90, outputTokens: 18, totalTokens: 108 });
  });
});

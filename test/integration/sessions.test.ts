import { temporal } from '@temporalio/proto';
import { AgentClient } from '../../client/agent-client';
import { loadTemporalConfig } from '../../src/config';
import { chatUpdate, endSignal, messageSignal, stateQuery } from '../../src/contract';
import type { ChatMessage } from '../../src/types';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';
import { updateRejectionOf } from '../support/outcomes';
import { lastOf, startScriptedModel, type ScriptedModel } from '../../testing';

let model: ScriptedModel;
let worker: TestWorker;

beforeAll(async () => {
  // Slow enough that signals sent right after start arrive while the agent is working.
  model = await startScriptedModel((request) => ({
    kind: 'message',
    content: `reply to: ${lastOf(request, 'user')?.content}`,
    usage: { input: 10, output: 5 },
    delayMs: 300,
  }));
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

const { EventType } = temporal.api.enums.v1;

const conversation = (messages: ChatMessage[]) =>
  messages
    .filter((message) => message.role === 'user' || message.role === 'assistant')
    .map((message) => message.content);

describe('session runs', () => {
  it('answer three chat updates in order, each caller getting its own reply, and complete on end', async () => {
    const handle = await worker.start({ agent: 'helpdesk', message: 'hello', mode: 'session' });
    await eventually(async () => (await handle.query(stateQuery)).status === 'awaiting_input', 'the first answer');

    const replies = [];
    for (const text of ['one', 'two', 'three']) {
      replies.push(await handle.executeUpdate(chatUpdate, { args: [{ text }] }));
    }
    expect(replies).toEqual(['reply to: one', 'reply to: two', 'reply to: three']);

    await handle.signal(endSignal);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'reply to: three', steps: 4 });
    expect(result.usage.totalTokens).toBe(60);
  });

  it('queue messages signalled while the agent works and answer every one, in order', async () => {
    const handle = await worker.start({ agent: 'helpdesk', message: 'first', mode: 'session' });
    for (const text of ['second', 'third', 'fourth']) await handle.signal(messageSignal, { text });
    const state = await eventually(async () => {
      const current = await handle.query(stateQuery);
      return current.status === 'awaiting_input' && current.step === 4 ? current : undefined;
    }, 'all four messages to be answered');
    expect(conversation(state.messages)).toEqual([
      'first',
      'reply to: first',
      'second',
      'reply to: second',
      'third',
      'reply to: third',
      'fourth',
      'reply to: fourth',
    ]);
    expect(state.queuedMessages).toBe(0);
    await handle.signal(endSignal);
    expect((await handle.result()).output).toBe('reply to: fourth');
  });

  it('complete by themselves after the idle timeout', async () => {
    const handle = await worker.start({
      agent: 'helpdesk',
      message: 'anyone?',
      mode: 'session',
      idleTimeoutSeconds: 1,
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'reply to: anyone?', steps: 1 });
  });

  it('reject chat updates with empty or oversize text, to a task run, and after the session ended', async () => {
    const session = await worker.start({ agent: 'helpdesk', message: 'hi', mode: 'session' });
    expect(await updateRejectionOf(session.executeUpdate(chatUpdate, { args: [{ text: '  ' }] }))).toMatch(
      /text: must not be empty/,
    );
    expect(
      await updateRejectionOf(session.executeUpdate(chatUpdate, { args: [{ text: 'x'.repeat(131_071) }] })),
    ).toMatch(/text: must be at most 131072 bytes \(is 131073\)/);
    // Counted in UTF-8 bytes: 50,000 characters of 3 bytes each pass the bound.
    expect(
      await updateRejectionOf(session.executeUpdate(chatUpdate, { args: [{ text: '東'.repeat(50_000) }] })),
    ).toMatch(/text: must be at most 131072 bytes \(is 150002\)/);
    await session.signal(endSignal);
    expect(await updateRejectionOf(session.executeUpdate(chatUpdate, { args: [{ text: 'too late' }] }))).toMatch(
      /session has ended/,
    );
    expect((await session.result()).status).toBe('completed');

    const task = await worker.start({ agent: 'helpdesk', message: 'a task' });
    expect(await updateRejectionOf(task.executeUpdate(chatUpdate, { args: [{ text: 'more' }] }))).toMatch(
      /task, not a session/,
    );
  });

  it('are sent no message past the bound by AgentClient, which a run could not refuse past 2 MB', async () => {
    const session = await worker.start({ agent: 'helpdesk', message: 'hi', mode: 'session' });
    const agents = await AgentClient.connect(loadTemporalConfig({ TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS }));
    try {
      const huge = 'x'.repeat(3 * 1024 * 1024);
      const refusal = {
        kind: 'invalid_input',
        message: `invalid message: text: must be at most 131072 bytes (is ${huge.length + 2})`,
      };
      await expect(agents.chat(session.workflowId, huge)).rejects.toMatchObject(refusal);
      await expect(agents.message(session.workflowId, huge)).rejects.toMatchObject(refusal);
      await expect(agents.steer(session.workflowId, huge)).rejects.toMatchObject(refusal);
      await expect(agents.chat(session.workflowId, ' ')).rejects.toMatchObject({ kind: 'invalid_input' });
      expect(await agents.chat(session.workflowId, 'still there?')).toBe('reply to: still there?');
      // Nothing reached the run: no workflow task failed on a refusal it could not send.
      const events = (await session.fetchHistory()).events ?? [];
      expect(events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
      await agents.end(session.workflowId);
    } finally {
      await agents.close();
    }
  });
});

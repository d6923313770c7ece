/**
 * One worker of every role keeps model and tool calls on the runs' own task queue (eager dispatch, no
 * poll per call), and still serves the calls of runs that recorded the separate queues before.
 */
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { defineAgent } from '../../src/agent';
import { chatUpdate, endSignal } from '../../src/contract';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { lastOf, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { startTestWorker, type TestWorker } from '../support/harness';

const clerk = defineAgent({
  name: 'clerk',
  instructions: 'You file things.',
  tools: [
    defineTool({
      name: 'file_it',
      description: 'Files a thing.',
      input: z.object({ thing: z.string() }),
      execute: ({ thing }) => ({ filed: thing }),
    }),
  ],
});
const registry = new AgentRegistry().add([clerk], 'test');

let model: ScriptedModel;
const workers: TestWorker[] = [];

beforeAll(async () => {
  // Each turn: a tool call, then an answer that quotes the user.
  model = await startScriptedModel((request) =>
    request.messages.at(-1)!.role === 'user'
      ? reply.tools([{ name: 'file_it', args: { thing: lastOf(request, 'user')!.content } }])
      : reply.text(`filed: ${lastOf(request, 'user')!.content}`),
  );
});
afterAll(async () => {
  for (const worker of workers) await worker.stop();
  await model?.close();
});

async function worker(env: Record<string, string>): Promise<TestWorker> {
  const started = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, ...env }, registry);
  workers.push(started);
  return started;
}

/** The task queue of each activity the run scheduled, by activity type, in order. */
async function scheduledQueues(handle: WorkflowHandle): Promise<string[]> {
  const { events } = await handle.fetchHistory();
  const type = temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED;
  return events!
    .filter((event) => event.eventType === type)
    .map((event) => {
      const scheduled = event.activityTaskScheduledEventAttributes!;
      return `${scheduled.activityType!.name} ${scheduled.taskQueue!.name}`;
    });
}

describe('a single worker of every role', () => {
  it("schedules model and tool calls on the runs' own queue", async () => {
    const single = await worker({});
    const queue = single.config.TASK_QUEUE;
    const handle = await single.start({ agent: 'clerk', message: 'form 7' });
    expect((await handle.result()).output).toBe('filed: form 7');
    expect(await scheduledQueues(handle)).toEqual([`callModel ${queue}`, `runTool ${queue}`, `callModel ${queue}`]);
  });

  it('serves the calls of a run that recorded separate queues, after the worker is replaced', async () => {
    const queue = `test-${randomUUID()}`;
    const separate = await worker({
      TASK_QUEUE: queue,
      MODEL_TASK_QUEUE: `${queue}-model`,
      TOOL_TASK_QUEUE: `${queue}-tools`,
    });
    const handle = await separate.start({ agent: 'clerk', message: 'form 7', mode: 'session' });
    expect(await handle.executeUpdate(chatUpdate, { args: [{ text: 'form 8' }] })).toBe('filed: form 8');
    await separate.stop();
    workers.splice(workers.indexOf(separate), 1);

    // The same queue, now with a worker of the default settings: the run's spec still names the others.
    const replaced = await worker({ TASK_QUEUE: queue });
    const again = replaced.client.workflow.getHandle(handle.workflowId);
    expect(await again.executeUpdate(chatUpdate, { args: [{ text: 'form 9' }] })).toBe('filed: form 9');
    await again.signal(endSignal);
    await again.result();
    const model = `callModel ${queue}-model`;
    const tool = `runTool ${queue}-tools`;
    expect(await scheduledQueues(again)).toEqual([model, tool, model, model, tool, model, model, tool, model]);
  });
});

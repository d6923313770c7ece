import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { AgentClient } from '../../client/agent-client';
import { WorkflowType } from '../../src/contract';
import type { agentRun } from '../../workflows';
import { byTurn, reply, turnOf } from '../../testing';
import { effectsSetup, jsonLines } from '../support/effects';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const EventType = temporal.api.enums.v1.EventType;

type History = Awaited<ReturnType<Awaited<ReturnType<TestWorker['start']>>['fetchHistory']>>;

/** The activity types a history schedules as regular activities, and how many local calls it records. */
function callsIn(history: History) {
  const events = history.events ?? [];
  return {
    regular: events
      .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
      .map((event) => event.activityTaskScheduledEventAttributes!.activityType!.name),
    local: events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
  };
}

const processes = useWorkerProcesses();

describe('the local-activity fast path (LOCAL_ACTIVITIES)', () => {
  const script = byTurn([
    reply.tools([
      { id: 'order', name: 'lookup_order', args: { orderId: '1042' } },
      { id: 'policy', name: 'search_knowledge_base', args: { query: 'delayed parcel' } },
    ]),
    reply.text('Order 1042 is delayed.'),
  ]);

  it('runs model and tool calls as local activities, and the run exports as one with regular activities does', async () => {
    const model = await processes.startModel(script);
    const regular = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
    const local = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, LOCAL_ACTIVITIES: 'model,tools' });
    const client = await AgentClient.connect(local.config);
    try {
      const runs = [];
      for (const worker of [regular, local]) {
        const handle = await worker.start({ agent: 'helpdesk', message: 'Where is order 1042?' });
        expect(await handle.result()).toMatchObject({
          status: 'completed',
          output: 'Order 1042 is delayed.',
          steps: 2,
        });
        runs.push({
          handle,
          history: await handle.fetchHistory(),
          transcript: await client.transcript(handle.workflowId),
        });
      }
      const [viaRegular, viaLocal] = runs;
      expect(callsIn(viaRegular.history)).toEqual({
        regular: ['callModel', 'runTool', 'runTool', 'callModel'],
        local: 1,
      });
      // The spec, which says whether the calls are local, is resolved locally in every run.
      expect(callsIn(viaLocal.history)).toEqual({ regular: [], local: 5 });
      expect(viaLocal.history.events!.length).toBeLessThan(viaRegular.history.events!.length);
      // What history holds of the calls is enough to export the run, as it is for regular activities.
      expect(viaLocal.transcript.messages).toEqual(viaRegular.transcript.messages);
      expect(viaLocal.transcript.messages.map((message) => message.role)).toEqual([
        'system',
        'user',
        'assistant',
        'tool',
        'tool',
        'assistant',
      ]);
      expect(viaLocal.transcript.steps.map(({ step, inputTokens }) => ({ step, inputTokens }))).toEqual([
        { step: 1, inputTokens: 100 },
        { step: 2, inputTokens: 100 },
      ]);
      expect(viaLocal.transcript.steps.every((step) => step.seconds >= 0)).toBe(true);
      expect(viaLocal.transcript.tools).toEqual(viaRegular.transcript.tools);
    } finally {
      await client.close();
      await Promise.all([regular.stop(), local.stop()]);
    }
  });

  it('repeats the local calls of a crashed worker on the next one, with the same idempotency key: the effect happens once', async () => {
    const { model, effects, env } = await effectsSetup(processes, { LOCAL_ACTIVITIES: 'model,tools' });
    const first = processes.spawn(env);
    await waitUntilPolling(first);
    expect(first.output()).toContain('worker: model and tools calls run as local activities (LOCAL_ACTIVITIES)');
    const workflowId = `local-crash-${randomUUID()}`;
    const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: env.TASK_QUEUE,
      workflowId,
      args: [{ agent: 'effects', message: 'Record the refund.' }],
    });
    // The effect happened; the call is still running when its worker dies.
    await eventually(() => jsonLines(effects).length === 1, 'the effect to be recorded');
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = processes.spawn({ ...env, EFFECT_DELAY_MS: '0' });
    await waitUntilPolling(second);
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Recorded.', steps: 2 });

    const key = `${workflowId}/${handle.firstExecutionRunId}/1.1`;
    expect(jsonLines(effects)).toEqual([{ key, name: 'refund' }]);
    // The tool ran again after the crash (a local call is not recorded until its workflow task
    // completes), under the same key, so it did not repeat its effect.
    const attempts = jsonLines<{ key: string }>(`${effects}.attempts`);
    expect(attempts.map((attempt) => attempt.key)).toEqual([key, key]);
    // So did the model call of that workflow task: local calls cost their tokens again after a crash.
    expect(model.requests.filter((request) => turnOf(request) === 0)).toHaveLength(2);
    expect(callsIn(await handle.fetchHistory())).toEqual({ regular: [], local: 4 });
  });
});

import { randomUUID } from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { readLedger } from '../../agents/helpdesk';
import { approvalUpdate, stateQuery, WorkflowType } from '../../src/contract';
import type { agentRun } from '../../workflows';
import { eventually } from '../support/eventually';
import { tempPath, workerEnv } from '../support/harness';
import { byTurn, lastOf, reply, turnOf } from '../../testing';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const EventType = temporal.api.enums.v1.EventType;

const processes = useWorkerProcesses();

describe('a worker process', () => {
  it('is SIGKILLed after a refund and during a later model call; a new worker finishes without repeating work', async () => {
    let turnOneAttempts = 0;
    const model = await processes.startModel((request) => {
      if (turnOf(request) === 0) {
        return reply.tools([
          { id: 'refund', name: 'issue_refund', args: { orderId: '1042', amountUsd: 129, reason: 'parcel delayed' } },
        ]);
      }
      turnOneAttempts += 1;
      // The first worker dies while this call is in flight; the retry on the second worker is answered.
      return turnOneAttempts === 1 ? reply.hang() : reply.text('Your refund of $129 is on its way.');
    });
    const env = workerEnv({
      OPENAI_BASE_URL: model.baseUrl,
      MODEL_HEARTBEAT_SECONDS: '2',
      HELPDESK_LEDGER: tempPath('ledger.jsonl'),
    });
    const first = processes.spawn(env);
    await waitUntilPolling(first);

    const workflowId = `crash-${randomUUID()}`;
    const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: env.TASK_QUEUE,
      workflowId,
      args: [{ agent: 'helpdesk', message: 'Order 1042 never arrived, refund me please' }],
    });
    const pending = await eventually(
      async () => (await handle.query(stateQuery)).pendingApprovals[0],
      'the refund to await approval',
    );
    expect(pending).toEqual({
      callId: '1.1',
      tool: 'issue_refund',
      args: { orderId: '1042', amountUsd: 129, reason: 'parcel delayed' },
    });
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1', approve: true }] });

    await eventually(() => turnOneAttempts === 1, 'the second model call to be in flight');
    expect((await readLedger(env.HELPDESK_LEDGER)).length).toBe(1);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = processes.spawn(env);
    await waitUntilPolling(second);
    const result = await handle.result();

    expect(result).toMatchObject({ status: 'completed', output: 'Your refund of $129 is on its way.', steps: 2 });
    // The first model call and the refund ran once; only the call in flight was retried.
    expect(model.requests.filter((request) => turnOf(request) === 0)).toHaveLength(1);
    expect(turnOneAttempts).toBe(2);
    const ledger = await readLedger(env.HELPDESK_LEDGER);
    expect(ledger).toEqual([
      expect.objectContaining({
        orderId: '1042',
        amountUsd: 129,
        idempotencyKey: `${workflowId}/${handle.firstExecutionRunId}/1.1`,
      }),
    ]);
    const events = (await handle.fetchHistory()).events ?? [];
    const toolStarts = events.filter(
      (event) =>
        event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
        event.activityTaskScheduledEventAttributes?.activityType?.name === 'runTool',
    );
    expect(toolStarts).toHaveLength(1);
    expect(JSON.parse(lastOf(model.requests.at(-1)!, 'tool')!.content)).toMatchObject({
      orderId: '1042',
      status: 'issued',
    });
  });

  it('loads a plug-in agent module from AGENT_MODULES and runs it end to end', async () => {
    const model = await processes.startModel(
      byTurn([reply.tools([{ name: 'get_forecast', args: { city: 'Lisbon' } }]), reply.text('Sunny in Lisbon.')]),
    );
    const env = workerEnv({
      OPENAI_BASE_URL: model.baseUrl,
      AGENT_MODULES: 'test/fixtures/weather-agent.mjs, test/fixtures/echo-agent.ts',
    });
    const worker = processes.spawn(env);
    await waitUntilPolling(worker);
    // The modules' agents and no others: the example helpdesk only comes when AGENT_MODULES names it.
    expect(worker.output()).toMatch(/agents: echo, weather\n/);
    // The default model and its endpoint, just before: a plug-in agent may name its own model.
    expect(worker.output()).toContain(
      `worker: model gpt-4o-mini at ${model.baseUrl} (no OPENAI_API_KEY)\nworker: polling`,
    );

    const workflowId = `plugin-${randomUUID()}`;
    const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: env.TASK_QUEUE,
      workflowId,
      args: [{ agent: 'weather', message: 'Weather in Lisbon?' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'Sunny in Lisbon.', steps: 2 });
    expect(model.requests[0].model).toBe('scripted-weather-model');
    expect(JSON.parse(lastOf(model.requests[1], 'tool')!.content)).toEqual({
      city: 'Lisbon',
      forecast: 'sunny',
      agent: 'weather',
      key: `${workflowId}/${handle.firstExecutionRunId}/1.1`,
    });
  });

  it('refuses to start without a reachable Temporal, in one line', async () => {
    const worker = processes.spawn(workerEnv({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));
    expect(await worker.exited).toBe(1);
    // The address, why that one, the cause and what to do: the Rust core's debug string is not shown.
    expect(worker.output()).toBe(
      'worker: cannot reach Temporal at 127.0.0.1:1 (TEMPORAL_ADDRESS): connection refused ' +
        '(start a dev server: ./temporal-dev.sh start)\n',
    );
  });

  it.each([
    ['helpdesk,test/fixtures/duplicate-agent.js', /agent "helpdesk" is already defined by built-in/],
    ['helpdsk', /AGENT_MODULES names "helpdsk", which is neither a module path .* \(did you mean "helpdesk"\?\)$/],
    ['', /no agents to run: AGENT_MODULES names none\. .*AGENT_MODULES=\.\/weather\.mjs.*helpdesk.*--offline/],
    ['test/fixtures/broken-agent.mjs', /is neither a defineAgent\(\.\.\.\) nor a defineMcpServer\(\.\.\.\) result/],
    ['test/fixtures/missing.mjs', /cannot load agent module .*missing\.mjs/],
    [
      'test/fixtures/typo-agent.mjs',
      /typo-agent\.mjs: tool "issue_refund": unknown option "requireApproval" \(did you mean "requiresApproval"\?\)$/,
    ],
  ])('refuses to start with AGENT_MODULES=%s, saying why in one line', async (path, message) => {
    const worker = processes.spawn(workerEnv({ AGENT_MODULES: path }));
    expect(await worker.exited).toBe(1);
    const lines = worker.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^worker: /);
    expect(lines[0]).toMatch(message);
  });
});

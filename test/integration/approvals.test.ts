import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { wireMessages } from '../../src/wire-messages';
import { readLedger } from '../../agents/helpdesk';
import { listQuery } from '../../client/agent-client';
import { approvalUpdate, searchAttributes, stateQuery } from '../../src/contract';
import type { agentRun } from '../../workflows';
import { eventually } from '../support/eventually';
import { activitySummaries, timerSummaries } from '../support/history';
import { startTestWorker, type TestWorker } from '../support/harness';
import { updateRejectionOf } from '../support/outcomes';
import { byTurn, reply, startScriptedModel, type ModelRequest, type ScriptedModel } from '../../testing';

const EventType = temporal.api.enums.v1.EventType;

let model: ScriptedModel;
let worker: TestWorker;

const refund = (orderId: string, amountUsd: number) => ({
  name: 'issue_refund',
  args: { orderId, amountUsd, reason: 'parcel delayed' },
});

beforeAll(async () => {
  model = await startScriptedModel(
    byTurn([
      reply.tools([refund('1042', 129), refund('1046', 35), { name: 'lookup_order', args: { orderId: '1043' } }], {
        input: 300,
        output: 40,
      }),
      reply.text('Done.', { input: 500, output: 10 }),
    ]),
  );
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

type Handle = WorkflowHandleWithFirstExecutionRunId<typeof agentRun>;

async function startAwaitingApproval(extra: { approvalTimeoutSeconds?: number } = {}): Promise<Handle> {
  const handle = await worker.start({ agent: 'helpdesk', message: 'refund my orders', userId: 'ada', ...extra });
  await eventually(
    async () => (await handle.query(stateQuery)).pendingApprovals.length === 2,
    'two calls to await approval',
  );
  return handle;
}

const decide = (handle: Handle, callId: string, approve: boolean, note?: string) =>
  handle.executeUpdate(approvalUpdate, { args: [{ callId, approve, note }] });

/** The tool results of `request`: a tool's JSON parsed; the run's own words (a denial) as `{ words }`. */
function toolResults(request: ModelRequest): Record<string, unknown>[] {
  return request.messages
    .filter((m) => m.role === 'tool')
    .map((m) => (m.content.startsWith('{') ? JSON.parse(m.content) : { words: m.content }));
}

/** What the model reads of a call to `tool` a person denied, with their note. */
const denialOf = (tool: string, note: string) =>
  `Denied: a person did not approve this call to ${tool}, so it did not run. Their note: ${JSON.stringify(note)}`;

async function secondRequestOf(handle: Handle): Promise<ModelRequest> {
  const result = await handle.result();
  expect(result.status).toBe('completed');
  // The run's own transcript holds exactly what its second model request carried (as sent: an answer
  // that only called tools with content "", not null).
  const state = await handle.query(stateQuery);
  const sent = wireMessages(state.messages.slice(0, -1));
  const request = model.requests.find((candidate) => JSON.stringify(candidate.messages) === JSON.stringify(sent));
  expect(request).toBeDefined();
  return request!;
}

describe('tool calls that need approval', () => {
  it('wait for a person; approved runs exactly once, denied never runs and the model reads the denial', async () => {
    const handle = await startAwaitingApproval();
    const state = await handle.query(stateQuery);
    expect(state.status).toBe('awaiting_approval');
    expect(state.pendingApprovals).toEqual([
      { callId: '1.1', tool: 'issue_refund', args: { orderId: '1042', amountUsd: 129, reason: 'parcel delayed' } },
      { callId: '1.2', tool: 'issue_refund', args: { orderId: '1046', amountUsd: 35, reason: 'parcel delayed' } },
    ]);
    // The call that needs no approval was not held back by the two that do: it already ran.
    const events = (await handle.fetchHistory()).events ?? [];
    const activityTypes = new Map(
      events
        .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)
        .map((event) => [String(event.eventId), event.activityTaskScheduledEventAttributes?.activityType?.name]),
    );
    const completed = events
      .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED)
      .map((event) => activityTypes.get(String(event.activityTaskCompletedEventAttributes?.scheduledEventId)));
    expect(completed.filter((type) => type === 'runTool')).toHaveLength(1);

    // A person reads the run in the Web UI without opening payloads: activity summaries and details.
    expect(await activitySummaries(handle)).toEqual(['model gpt-4o-mini · step 1', 'tool lookup_order']);
    const metadata = (await handle.query('__temporal_workflow_metadata')) as { currentDetails?: string };
    const id = handle.workflowId;
    expect(metadata.currentDetails).toBe(
      [
        // The cost as the CLI shows it; the arguments in code spans, to paste as typed.
        '**awaiting_approval** · step 1 · 340 tokens · $0.000069',
        '',
        '**Awaiting approval**',
        `- \`issue_refund\` \`{"orderId":"1042","amountUsd":129,"reason":"parcel delayed"}\` (call 1.1): \`durable-agents approve ${id} 1.1\` or \`durable-agents deny ${id} 1.1 --note "why"\``,
        `- \`issue_refund\` \`{"orderId":"1046","amountUsd":35,"reason":"parcel delayed"}\` (call 1.2): \`durable-agents approve ${id} 1.2\` or \`durable-agents deny ${id} 1.2 --note "why"\``,
      ].join('\n'),
    );
    // The approval's timer says what it waits for, in the Web UI's event history (each call's timer
    // starts once its arguments are checked, so the two come in either order).
    expect((await timerSummaries(handle)).sort()).toEqual([
      'approval deadline · issue_refund (call 1.1)',
      'approval deadline · issue_refund (call 1.2)',
    ]);
    expect(await readLedger(worker.config.HELPDESK_LEDGER)).toEqual([]);

    expect(await decide(handle, '1.2', false, 'lamp was not damaged, see photo')).toBe('denied issue_refund (1.2)');
    expect((await handle.query(stateQuery)).pendingApprovals.map((p) => p.callId)).toEqual(['1.1']);
    expect(await decide(handle, '1.1', true)).toBe('approved issue_refund (1.1)');

    const [approved, denied, lookup] = toolResults(await secondRequestOf(handle));
    expect(approved).toMatchObject({ orderId: '1042', amountUsd: 129, status: 'issued' });
    expect(denied).toEqual({ words: denialOf('issue_refund', 'lamp was not damaged, see photo') });
    expect(lookup).toMatchObject({ id: '1043' });
    const ledger = await readLedger(worker.config.HELPDESK_LEDGER);
    expect(ledger.filter((entry) => entry.idempotencyKey.startsWith(handle.workflowId))).toEqual([
      expect.objectContaining({
        orderId: '1042',
        idempotencyKey: `${handle.workflowId}/${handle.firstExecutionRunId}/1.1`,
      }),
    ]);
  });

  it('reject a forged or repeated callId in the validator, changing nothing', async () => {
    const handle = await startAwaitingApproval();
    const rejected = (callId: string) => updateRejectionOf(decide(handle, callId, true));
    expect(await rejected('9.9')).toBe('no tool call 9.9 awaits approval; pending: 1.1, 1.2');
    await decide(handle, '1.1', false);
    expect(await rejected('1.1')).toBe('tool call 1.1 was already denied');
    expect((await handle.query(stateQuery)).pendingApprovals.map((p) => p.callId)).toEqual(['1.2']);
    // Rejected updates are not even written to history.
    const events = (await handle.fetchHistory()).events ?? [];
    expect(
      events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
    ).toHaveLength(1);
    await decide(handle, '1.2', false);
    await handle.result();
  });

  it('are denied when nobody decides in time, and the model is told why', async () => {
    const handle = await startAwaitingApproval({ approvalTimeoutSeconds: 1 });
    const results = toolResults(await secondRequestOf(handle));
    expect(results[0]).toEqual({
      words: denialOf('issue_refund', 'no decision within 1 seconds, so the call was denied automatically'),
    });
    expect(results[1]).toEqual({
      words: expect.stringMatching(/^Denied: a person did not approve this call to issue_refund/),
    });
    expect(
      (await readLedger(worker.config.HELPDESK_LEDGER)).filter((entry) =>
        entry.idempotencyKey.startsWith(handle.workflowId),
      ),
    ).toEqual([]);
  });

  it('are findable by search attribute, and the usage attributes match the result', async () => {
    const handle = await startAwaitingApproval();
    const query = `${listQuery({ status: 'awaiting_approval', user: 'ada' })} AND WorkflowId = "${handle.workflowId}"`;
    await eventually(async () => {
      for await (const execution of worker.client.workflow.list({ query }))
        return execution.workflowId === handle.workflowId;
      return false;
    }, 'the run to be listed as awaiting_approval');

    await decide(handle, '1.1', false);
    await decide(handle, '1.2', false);
    const result = await handle.result();
    const attributes = await eventually(async () => {
      const description = await handle.describe();
      const status = description.typedSearchAttributes.get(searchAttributes.agentStatus);
      return status === 'completed' ? description.typedSearchAttributes : undefined;
    }, 'the final search attributes');
    expect(attributes.get(searchAttributes.agentName)).toBe('helpdesk');
    expect(attributes.get(searchAttributes.agentUser)).toBe('ada');
    expect(attributes.get(searchAttributes.agentSteps)).toBe(result.steps);
    expect(attributes.get(searchAttributes.agentTokens)).toBe(result.usage.totalTokens);
    expect(result.usage.totalTokens).toBe(850);
    expect(attributes.get(searchAttributes.agentCostUsd)).toBeCloseTo(result.usage.costUsd, 12);
  });
});

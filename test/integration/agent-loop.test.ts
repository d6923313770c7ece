import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { byTurn, lastOf, reply, turnOf } from '../../testing';
import { startTestWorker, useScriptedWorker } from '../support/harness';
import { runFailureOf } from '../support/outcomes';
import { stateQuery } from '../../src/contract';
import type { ChatMessage } from '../../src/types';

const EventType = temporal.api.enums.v1.EventType;

/** One scripted model server and one worker whose script each test swaps in. */

// An unknown agent's run fails at once here; test/integration/mixed-fleet.test.ts has the wait.
// A model that is down fails its run once its 3 attempts are spent (MODEL_UNAVAILABLE_SECONDS=1).
const setup = useScriptedWorker({
  MODEL_MAX_ATTEMPTS: '3',
  MODEL_UNAVAILABLE_SECONDS: '1',
  UNKNOWN_AGENT_WAIT_SECONDS: '0',
});

async function history(handle: WorkflowHandle) {
  return (await handle.fetchHistory()).events ?? [];
}

function toolMessages(messages: ChatMessage[]) {
  return messages.filter((message): message is Extract<ChatMessage, { role: 'tool' }> => message.role === 'tool');
}

describe('agentRun', () => {
  it('runs two tool calls of one turn in parallel, then answers, summing usage over both steps', async () => {
    setup.script = byTurn([
      reply.tools(
        [
          { id: 'call_kb', name: 'search_knowledge_base', args: { query: 'delayed parcel refund' } },
          { id: 'call_order', name: 'lookup_order', args: { orderId: '1042' } },
        ],
        { input: 150, output: 30 },
      ),
      reply.text('Order 1042 is delayed; you can get a refund or a reshipment.', { input: 400, output: 25 }),
    ]);
    const handle = await setup.worker.start({ agent: 'helpdesk', message: 'Where is order 1042?' });
    const result = await handle.result();

    expect(result.status).toBe('completed');
    expect(result.output).toBe('Order 1042 is delayed; you can get a refund or a reshipment.');
    expect(result.steps).toBe(2);
    expect(result.usage).toMatchObject({ inputTokens: 550, outputTokens: 55, totalTokens: 605, costKnown: true });
    // gpt-4o-mini: $0.15 / $0.60 per million tokens.
    expect(result.usage.costUsd).toBeCloseTo((550 * 0.15 + 55 * 0.6) / 1e6, 12);

    const [first, second] = setup.model.requests;
    expect(first.tools?.map((tool) => tool.function.name)).toEqual([
      'search_knowledge_base',
      'lookup_order',
      'issue_refund',
    ]);
    expect(first.tools?.[1].function.parameters).toMatchObject({ type: 'object', required: ['orderId'] });
    const results = toolMessages(second.messages);
    expect(results.map((message) => message.tool_call_id)).toEqual(['call_kb', 'call_order']);
    expect(JSON.parse(results[0].content).articles[0].id).toBe('kb-delayed');
    expect(JSON.parse(results[1].content)).toMatchObject({ id: '1042', status: 'delayed' });

    // Both tool activities were scheduled by the same workflow task: they ran in parallel.
    const scheduled = (await history(handle)).filter(
      (event) =>
        event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED &&
        event.activityTaskScheduledEventAttributes?.activityType?.name === 'runTool',
    );
    expect(scheduled).toHaveLength(2);
    const [a, b] = scheduled.map((event) =>
      String(event.activityTaskScheduledEventAttributes?.workflowTaskCompletedEventId),
    );
    expect(a).toBe(b);

    const state = await handle.query(stateQuery);
    expect(state).toMatchObject({ status: 'completed', agent: 'helpdesk', step: 2, usage: result.usage });
    expect(state.messages.map((message: ChatMessage) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'tool',
      'assistant',
    ]);
  });

  it('feeds invalid tool calls back to the model, which corrects itself', async () => {
    setup.script = byTurn([
      reply.tools([
        { id: 'bad_schema', name: 'lookup_order', args: { orderId: 'abc' } },
        { id: 'bad_json', name: 'lookup_order', args: '{"orderId": 10' },
        { id: 'bad_tool', name: 'cancel_order', args: { orderId: '1042' } },
        { id: 'missing', name: 'lookup_order', args: { orderId: '9999' } },
      ]),
      reply.tools([{ id: 'good', name: 'lookup_order', args: { orderId: '1043' } }]),
      reply.text('Order 1043 was delivered on 10 November.'),
    ]);
    const handle = await setup.worker.start({ agent: 'helpdesk', message: 'Status of my order please' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'Order 1043 was delivered on 10 November.', steps: 3 });

    // In words, each after `Error: `.
    const contents = toolMessages(setup.model.requests[1].messages).map((message) => message.content);
    for (const content of contents) expect(content).toMatch(/^Error: /);
    const errors = contents.map((content) => content.slice('Error: '.length));
    expect(errors[0]).toMatch(/Invalid arguments for tool "lookup_order": orderId: an order number has four digits/);
    expect(errors[1]).toMatch(/not valid JSON/);
    expect(errors[2]).toBe(
      'Unknown tool "cancel_order". Available tools: search_knowledge_base, lookup_order, issue_refund.',
    );
    // A non-retryable ToolError reaches the model after a single attempt.
    expect(errors[3]).toMatch(/Tool lookup_order failed: There is no order 9999/);
    expect(JSON.parse(toolMessages(setup.model.requests[2].messages)[4].content)).toMatchObject({ id: '1043' });
  });

  it('feeds an empty model reply back and continues', async () => {
    setup.script = byTurn([reply.text(''), reply.text('Here I am.')]);
    const result = await (await setup.worker.start({ agent: 'helpdesk', message: 'Hello?' })).result();
    expect(result).toMatchObject({ status: 'completed', output: 'Here I am.', steps: 2 });
    expect(lastOf(setup.model.requests[1], 'user')?.content).toMatch(/last reply was empty/);
  });

  it('drops the oldest tool results once the transcript outgrows TRANSCRIPT_MAX_BYTES', async () => {
    const small = await startTestWorker({ OPENAI_BASE_URL: setup.model.baseUrl, TRANSCRIPT_MAX_BYTES: '6000' });
    try {
      setup.script = byTurn([
        ...Array.from({ length: 6 }, () =>
          reply.tools([{ name: 'search_knowledge_base', args: { query: 'refund shipping delayed damaged' } }]),
        ),
        reply.text('Summarised.'),
      ]);
      // The same search six times is what this test needs, not a stuck loop.
      const input = { agent: 'helpdesk', message: 'Tell me every policy', limits: { maxRepeats: 10 } };
      const result = await (await small.start(input)).result();
      expect(result).toMatchObject({ status: 'completed', output: 'Summarised.', steps: 7 });
      const last = setup.model.requests.at(-1)!;
      expect(JSON.stringify(last.messages).length).toBeLessThanOrEqual(6000);
      const results = toolMessages(last.messages).map((message) => JSON.parse(message.content));
      expect(results).toHaveLength(6);
      expect(results[0]).toEqual({ omitted: expect.stringMatching(/removed to keep the conversation small/) });
      expect(results.at(-1).articles.length).toBeGreaterThan(0);
    } finally {
      await small.stop();
    }
  });

  describe('bad input fails at once, typed and non-retryable', () => {
    it.each([
      [{}, /agent: .*; message: /],
      [{ agent: 'helpdesk', message: '   ' }, /message: must not be empty/],
      [
        { agent: 'helpdesk', message: 'hi', limits: { maxSteps: -1, maxCostUsd: 'lots' } },
        /limits\.maxSteps: .*; limits\.maxCostUsd: /,
      ],
      [{ agent: 'helpdesk', message: 'hi', mode: 'chatty' }, /mode: /],
      [{ agent: 'helpdesk', message: 'hi', colour: 'blue' }, /colour/],
    ])('%j → InvalidAgentInput', async (input, message) => {
      const handle = await setup.worker.start(input as never);
      const failure = await runFailureOf(handle);
      expect(failure.type).toBe('InvalidAgentInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(message);
      const events = await history(handle);
      expect(events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED)).toHaveLength(1);
      expect(setup.model.requests).toHaveLength(0);
    });

    it('an unknown agent → UnknownAgent listing the known agents, after a single attempt', async () => {
      const handle = await setup.worker.start({ agent: 'nobody', message: 'hi' });
      const failure = await runFailureOf(handle);
      expect(failure.type).toBe('UnknownAgent');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toBe('unknown agent "nobody"; known agents: helpdesk');
      // The spec is resolved by a local activity: its one attempt is in its marker.
      const attempts = (await history(handle))
        .filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity')
        .map((event) =>
          JSON.parse(Buffer.from(event.markerRecordedEventAttributes!.details!.data!.payloads![0].data!).toString()),
        )
        .map((data: { activity_type: string; attempt: number }) => [data.activity_type, data.attempt]);
      expect(attempts).toEqual([['resolveAgentSpec', 1]]);
    });
  });

  describe('model failures', () => {
    it('429 with Retry-After: the retry waits as long as the provider asked, then the run completes', async () => {
      setup.script = (request, index) =>
        index === 0
          ? reply.error(429, 'Rate limit reached', { 'retry-after': '3' })
          : reply.text(`answered turn ${turnOf(request)}`);
      const result = await (await setup.worker.start({ agent: 'helpdesk', message: 'hi' })).result();
      expect(result).toMatchObject({ status: 'completed', output: 'answered turn 0', steps: 1 });
      expect(setup.model.requests).toHaveLength(2);
      const waited = setup.model.requests[1].receivedAt - setup.model.requests[0].receivedAt;
      expect(waited).toBeGreaterThanOrEqual(2_900);
      expect(waited).toBeLessThan(6_000);
    });

    it('401 fails the run with ModelAuthError after a single attempt', async () => {
      setup.script = () => reply.error(401, 'Incorrect API key provided');
      const failure = await runFailureOf(await setup.worker.start({ agent: 'helpdesk', message: 'hi' }));
      expect(failure.type).toBe('ModelAuthError');
      expect(failure.message).toMatch(/401.*Incorrect API key provided/);
      expect(setup.model.requests).toHaveLength(1);
    });

    it('5xx is retried with backoff up to the attempt bound, then fails the run', async () => {
      setup.script = () => reply.error(503, 'overloaded');
      const failure = await runFailureOf(await setup.worker.start({ agent: 'helpdesk', message: 'hi' }));
      expect(failure.type).toBe('ModelUnavailable');
      expect(setup.model.requests).toHaveLength(3);
    });
  });
});

/**
 * A model endpoint that answers off the Chat Completions shape: the model activity rejects the answer
 * as a retryable ModelBadResponse, so the run retries and then fails with that type; it never wedges
 * in a loop of failing workflow tasks.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { ErrorType } from '../../src/errors';
import { reply } from '../../testing';
import { useScriptedWorker } from '../support/harness';
import { runFailureOf } from '../support/outcomes';

const EventType = temporal.api.enums.v1.EventType;

/** Attempts per model call on the test worker (MODEL_MAX_ATTEMPTS). */
const ATTEMPTS = 2;

const setup = useScriptedWorker({ MODEL_MAX_ATTEMPTS: String(ATTEMPTS) });

/** A Chat Completions body with `message` and top-level fields overridden. */
function body(message: Record<string, unknown>, top: Record<string, unknown> = {}) {
  return {
    id: 'chatcmpl-off-spec',
    object: 'chat.completion',
    created: 0,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello.', ...message }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    ...top,
  };
}

/** Asserts the run is closed as failed and its history shows no workflow task that failed. */
async function expectClosedCleanly(handle: WorkflowHandle): Promise<void> {
  const description = await handle.describe();
  expect(description.status.name).toBe('FAILED');
  const events = (await handle.fetchHistory()).events ?? [];
  expect(events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
  expect(events.at(-1)?.eventType).toBe(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED);
}

describe('an off-spec model answer', () => {
  it.each<[string, unknown, RegExp]>([
    [
      'content that is an object',
      body({ content: { type: 'text', text: 'Hello.' } }),
      /choices\.0\.message\.content: .*expected string, received object/i,
    ],
    [
      'usage that is not a number',
      body({}, { usage: { prompt_tokens: 'many', completion_tokens: 5, total_tokens: 'many' } }),
      /usage\.prompt_tokens: .*expected number, received string/,
    ],
    [
      'a tool call without a function',
      body({ content: null, tool_calls: [{ id: 'call_1', type: 'function' }] }),
      /choices\.0\.message\.tool_calls\.0\.function: /,
    ],
    ['a body that is not JSON', '{"choices": [', /the response body is not valid JSON/],
  ])('(%s) is retried, then fails the run with ModelBadResponse in bounded time', async (_case, raw, message) => {
    setup.script = () => reply.raw(raw);
    const startedAt = Date.now();
    const handle = await setup.worker.start({ agent: 'helpdesk', message: 'Where is order 1042?' });
    const failure = await runFailureOf(handle);
    const elapsedMs = Date.now() - startedAt;

    expect(failure.type).toBe(ErrorType.ModelBadResponse);
    expect(failure.message).toMatch(/^model answered off-spec: /);
    expect(failure.message).toMatch(message);
    expect(setup.model.requests).toHaveLength(ATTEMPTS);
    // Two attempts 1 s apart, and nothing else to wait for.
    expect(elapsedMs).toBeLessThan(10_000);
    await expectClosedCleanly(handle);
  });

  it('is retried like a 5xx: a good answer on the next attempt completes the run', async () => {
    setup.script = (_request, index) => (index === 0 ? reply.raw(body({ content: ['Hello.'] })) : reply.text('Hello.'));
    const handle = await setup.worker.start({ agent: 'helpdesk', message: 'hi' });
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Hello.', steps: 1 });
    expect(setup.model.requests).toHaveLength(2);
  });

  it("says what was off in the failure, never the provider's words", async () => {
    setup.script = () => reply.raw(body({ content: { text: 'secret '.repeat(50_000) } }));
    const failure = await runFailureOf(await setup.worker.start({ agent: 'helpdesk', message: 'hi' }));
    expect(failure.type).toBe(ErrorType.ModelBadResponse);
    expect(failure.message).toContain('choices.0.message.content was an object with 1 keys');
    expect(failure.message).not.toContain('secret');
  });
});

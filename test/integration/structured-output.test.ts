/**
 * Structured output on a real dev server and scripted model: an agent with `output` gets JSON valid
 * against its schema, asked with `response_format: json_schema` or, where the worker says its models
 * do not take it, through a final `answer` tool; answers that do not fit go back to the model with
 * what was wrong, at most `limits.maxOutputRepairs` times, then the run fails `OutputInvalid`.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { AgentClient } from '../../client/agent-client';
import { loadTemporalConfig } from '../../src/config';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { z } from 'zod';
import { runCli } from '../support/cli';
import { useScriptedWorker } from '../support/harness';
import { byTurn, lastOf, reply, type ModelRequest } from '../../testing';

const refunds = defineAgent({
  name: 'refunds',
  instructions: 'Decide refunds.',
  tools: [],
  output: z.object({ refundId: z.string().min(1), amountUsd: z.number() }),
});
const registry = new AgentRegistry().add([refunds], 'test');

const VALID = { refundId: 'r-1042', amountUsd: 129 };
const WRONG_TYPE = { refundId: 'r-1042', amountUsd: '129 dollars' };

/** The user messages the model read back after its answers, in order. */
const repairRequests = (requests: ModelRequest[]) =>
  requests.slice(1).map((request) => lastOf(request, 'user')?.content ?? '');

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const cause = (error as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

describe('an agent with an output schema, on models that take response_format', () => {
  const served = useScriptedWorker({}, registry);

  it('repairs invalid JSON and a wrong field type, then completes with the object', async () => {
    served.script = byTurn([
      reply.text('Sure! The refund is done.'),
      reply.text(JSON.stringify(WRONG_TYPE)),
      reply.text(JSON.stringify(VALID)),
    ]);
    const handle = await served.worker.start({ agent: 'refunds', message: 'refund order 1042' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: VALID, steps: 3 });
    // The two repairs are model calls like any other: counted in the usage (3 × 100 in, 3 × 20 out).
    expect(result.usage).toMatchObject({ inputTokens: 300, outputTokens: 60 });
    const { requests } = served.model;
    expect(requests).toHaveLength(3);
    for (const request of requests) {
      expect(request.responseFormat).toEqual({
        type: 'json_schema',
        json_schema: {
          name: 'refunds',
          strict: true,
          schema: {
            type: 'object',
            properties: { refundId: { type: 'string', minLength: 1 }, amountUsd: { type: 'number' } },
            required: ['refundId', 'amountUsd'],
            additionalProperties: false,
          },
        },
      });
      expect(request.tools ?? []).toEqual([]);
    }
    const [notJson, wrongType] = repairRequests(requests);
    expect(notJson).toContain('not valid JSON');
    expect(wrongType).toContain('amountUsd: Invalid input: expected number, received string');

    // Typed from the definition: `output` is the object.
    const agents = await AgentClient.connect(
      loadTemporalConfig({ TEMPORAL_ADDRESS: served.worker.config.TEMPORAL_ADDRESS }),
    );
    try {
      const typed = await agents.result(handle.workflowId, { agent: refunds });
      if (typed.status !== 'completed') throw new Error(`expected completed, got ${typed.status}`);
      const amount: number = typed.output.amountUsd;
      expect(amount).toBe(129);
    } finally {
      await agents.close();
    }

    // The CLI prints the object as JSON, alone and inside `--json`'s result.
    const env = {
      TEMPORAL_ADDRESS: served.worker.config.TEMPORAL_ADDRESS,
      TASK_QUEUE: served.worker.config.TASK_QUEUE,
    };
    const printed = await runCli(['result', handle.workflowId], env);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout.split('\n\n')[0])).toEqual(VALID);
    const json = await runCli(['result', handle.workflowId, '--json'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'completed', output: VALID });
  });

  it('fails OutputInvalid, naming what was wrong, once the repairs are spent', async () => {
    served.script = byTurn([reply.text(JSON.stringify(WRONG_TYPE))]);
    const handle = await served.worker.start({
      agent: 'refunds',
      message: 'refund order 1042',
      limits: { maxOutputRepairs: 1 },
    });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('OutputInvalid');
    expect(failure.message).toBe(
      "the model's answer does not fit the agent's output schema after 1 repair: amountUsd: Invalid input: expected number, received string",
    );
    expect(served.model.requests).toHaveLength(2);
  });

  it('answers a session turn with its object', async () => {
    served.script = (request) => reply.text(JSON.stringify({ refundId: `r-${request.messages.length}`, amountUsd: 1 }));
    const handle = await served.worker.start({ agent: 'refunds', message: 'first', mode: 'session' });
    const agents = await AgentClient.connect(
      loadTemporalConfig({ TEMPORAL_ADDRESS: served.worker.config.TEMPORAL_ADDRESS }),
    );
    try {
      expect(await agents.chat(handle.workflowId, 'second')).toEqual({ refundId: 'r-4', amountUsd: 1 });
      await agents.end(handle.workflowId);
      expect(await handle.result()).toMatchObject({ status: 'completed', output: { refundId: 'r-4', amountUsd: 1 } });
    } finally {
      await agents.close();
    }
  });

  it('answers in the schema at a budget limit, or says it could not', async () => {
    served.script = (request) =>
      request.messages.some((message) => message.role === 'user' && message.content.includes('budget is nearly spent'))
        ? reply.text('I could not finish.')
        : reply.text('thinking');
    const handle = await served.worker.start({ agent: 'refunds', message: 'refund', limits: { maxSteps: 2 } });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxSteps', output: 'I could not finish.' });
    expect(result.outputError).toBe('the run ended without an answer in its output schema ((answer): not valid JSON)');

    served.script = byTurn([reply.text('thinking'), reply.text(JSON.stringify(VALID))]);
    const answered = await (
      await served.worker.start({ agent: 'refunds', message: 'refund', limits: { maxSteps: 2 } })
    ).result();
    expect(answered).toMatchObject({ status: 'limit_reached', limit: 'maxSteps', output: VALID });
    expect(answered.outputError).toBeUndefined();
    // The wrap-up asked for the schema's JSON, and no tool.
    expect(lastOf(served.model.requests.at(-1)!, 'user')?.content).toBe('Reply with only a JSON object, nothing else.');
  });
});

describe('an agent with an output schema, on models without json_schema (MODEL_STRUCTURED_OUTPUT=false)', () => {
  const served = useScriptedWorker({ MODEL_STRUCTURED_OUTPUT: 'false' }, registry);
  const answer = (args: unknown) => reply.tools([{ name: 'answer', args }]);

  it('answers through the answer tool, repaired like text answers', async () => {
    served.script = byTurn([answer('{"refundId": '), answer(WRONG_TYPE), answer(VALID)]);
    const handle = await served.worker.start({ agent: 'refunds', message: 'refund order 1042' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: VALID, steps: 3 });
    expect(result.usage).toMatchObject({ inputTokens: 300, outputTokens: 60 });
    const { requests } = served.model;
    for (const request of requests) {
      expect(request.responseFormat).toBeUndefined();
      expect(request.tools?.map((tool) => tool.function.name)).toEqual(['answer']);
      expect(request.tools?.[0].function.parameters).toMatchObject({ required: ['refundId', 'amountUsd'] });
    }
    const toolResults = requests.slice(1).map((request) => lastOf(request, 'tool')?.content ?? '');
    expect(toolResults[0]).toContain('not valid JSON');
    expect(toolResults[1]).toContain('amountUsd: Invalid input: expected number, received string');
  });

  it('fails OutputInvalid after the default two repairs', async () => {
    served.script = byTurn([answer({ refundId: '', amountUsd: 1 })]);
    const handle = await served.worker.start({ agent: 'refunds', message: 'refund order 1042' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('OutputInvalid');
    expect(failure.message).toMatch(/after 2 repairs: refundId: Too small/);
    expect(served.model.requests).toHaveLength(3);
  });
});

/**
 * Each budget ends a run with a last answer written inside it (the wrap-up call) and is never passed;
 * sessions budget each turn, so they live as long as their idle timeout allows.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ModelCallInput } from '../../activities';
import { z } from 'zod';
import { chatUpdate, endSignal, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import type { ChatMessage } from '../../src/types';
import { lastOf, reply, turnOf, type ModelRequest, type Script } from '../../testing';
import { activityInputs, activitySummaries } from '../support/history';
import { useScriptedWorker, type TestWorker } from '../support/harness';
import { runFailureOf } from '../support/outcomes';

const agent = defineAgent({
  name: 'researcher',
  instructions: 'Research the question with the tools.',
  model: 'gpt-4o-mini',
  tools: [
    defineTool({
      name: 'research',
      description: 'Looks one topic up.',
      input: z.object({ topic: z.string() }),
      execute: ({ topic }) => ({ topic, finding: `notes on ${topic}` }),
    }),
    defineTool({
      name: 'slow_research',
      description: 'Looks one topic up, slowly.',
      input: z.object({ topic: z.string() }),
      execute: async ({ topic }, ctx) => {
        await sleep(3_000, undefined, { signal: ctx.signal }).catch(() => undefined);
        return { topic, finding: `slow notes on ${topic}` };
      },
    }),
    defineTool({
      name: 'publish',
      description: 'Publishes the findings (a person approves it).',
      input: z.object({ title: z.string() }),
      requiresApproval: true,
      execute: ({ title }) => ({ published: title }),
    }),
  ],
});

const setup = useScriptedWorker({}, new AgentRegistry().add([agent], 'test'));

const isWrapUp = (request: ModelRequest) =>
  /^\[The run's \w+ budget is nearly spent/.test(lastOf(request, 'user')!.content);
const WRAP_UP_ANSWER = 'Partial answer: notes on topics 0 and up; the rest is unfinished.';

/** Researches a new topic every step; answers the wrap-up. */
function researchForever(tool = 'research', usage?: { input: number; output: number }): Script {
  return (request) =>
    isWrapUp(request)
      ? reply.text(WRAP_UP_ANSWER, usage)
      : reply.tools([{ name: tool, args: { topic: `topic ${turnOf(request)}` } }], usage);
}

/** Seconds from the run's start to its close, by the server's clock. */
async function runSeconds(handle: Awaited<ReturnType<TestWorker['start']>>): Promise<number> {
  const { startTime, closeTime } = await handle.describe();
  return (closeTime!.getTime() - startTime.getTime()) / 1000;
}

describe('a task at its budget answers with its wrap-up', () => {
  it('maxSteps: the last step is the wrap-up, without tools', async () => {
    setup.script = researchForever();
    const handle = await setup.worker.start({ agent: 'researcher', message: 'Study', limits: { maxSteps: 3 } });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxSteps', output: WRAP_UP_ANSWER, steps: 3 });
    expect(setup.model.requests).toHaveLength(3);
    expect(setup.model.requests.map(isWrapUp)).toEqual([false, false, true]);
    expect((await activityInputs<ModelCallInput>(handle, 'callModel')).map((input) => input.toolChoice)).toEqual([
      undefined,
      undefined,
      'none',
    ]);
    expect((await activitySummaries(handle)).filter((summary) => summary.startsWith('model'))).toEqual([
      'model gpt-4o-mini · step 1',
      'model gpt-4o-mini · step 2',
      'model gpt-4o-mini · step 3 · wrap-up',
    ]);
  });

  it('maxTokens: never passed, the wrap-up counted in usage', async () => {
    setup.script = researchForever('research', { input: 300, output: 50 });
    const result = await (
      await setup.worker.start({ agent: 'researcher', message: 'Study', limits: { maxTokens: 3_000 } })
    ).result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxTokens', output: WRAP_UP_ANSWER });
    expect(result.steps).toBeGreaterThan(2);
    expect(result.usage.totalTokens).toBe(350 * result.steps);
    expect(result.usage.totalTokens).toBeLessThanOrEqual(3_000);
    expect(isWrapUp(setup.model.requests.at(-1)!)).toBe(true);
  });

  it('maxCostUsd: never passed', async () => {
    // gpt-4o-mini: $0.15 in and $0.60 out per million tokens, so $0.018 a call.
    setup.script = researchForever('research', { input: 100_000, output: 5_000 });
    const result = await (
      await setup.worker.start({ agent: 'researcher', message: 'Study', limits: { maxCostUsd: 0.1 } })
    ).result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxCostUsd', output: WRAP_UP_ANSWER });
    expect(result.steps).toBeGreaterThan(2);
    expect(result.usage.costUsd).toBeCloseTo(0.018 * result.steps, 10);
    expect(result.usage.costUsd).toBeLessThanOrEqual(0.1);
  });

  it('maxDurationSeconds: a deadline on tools too, the wrap-up inside it', async () => {
    setup.script = researchForever('slow_research');
    const handle = await setup.worker.start({
      agent: 'researcher',
      message: 'Study',
      limits: { maxDurationSeconds: 8 },
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxDurationSeconds', output: WRAP_UP_ANSWER });
    expect(await runSeconds(handle)).toBeLessThanOrEqual(8);
  });

  it('maxDurationSeconds: a deadline on approval waits', async () => {
    setup.script = (request) =>
      isWrapUp(request) ? reply.text(WRAP_UP_ANSWER) : reply.tools([{ name: 'publish', args: { title: 'Findings' } }]);
    const handle = await setup.worker.start({
      agent: 'researcher',
      message: 'Publish',
      limits: { maxDurationSeconds: 4 },
    });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxDurationSeconds', output: WRAP_UP_ANSWER });
    expect(await runSeconds(handle)).toBeLessThanOrEqual(4);
    const denial = lastOf(setup.model.requests.at(-1)!, 'tool')!;
    expect(denial.content).toBe(
      'Denied: a person did not approve this call to publish, so it did not run. ' +
        `Their note: ${JSON.stringify("no decision before the run's time budget ran out, so the call was denied")}`,
    );
    expect((await handle.query(stateQuery)).pendingApprovals).toEqual([]);
  });

  it('with no room for a wrap-up, says what was done and what was not', async () => {
    // The provider counts far more input than the transcript's size suggests: after one step nothing fits.
    setup.script = researchForever('research', { input: 1_900, output: 50 });
    const result = await (
      await setup.worker.start({ agent: 'researcher', message: 'Study', limits: { maxTokens: 2_000 } })
    ).result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxTokens', steps: 1 });
    expect(result.output).toBe(
      'The maxTokens budget (2000) ran out before an answer was written. Tool calls: research (1 ran). Not done: the answer to the request.',
    );
  });

  it('maxCostUsd on a model with no price is refused at start', async () => {
    setup.script = () => reply.text('unreachable');
    const handle = await setup.worker.start({
      agent: 'researcher',
      message: 'Study',
      model: 'local-llama',
      limits: { maxCostUsd: 1 },
    });
    const failure = await runFailureOf(handle);
    expect(failure.type).toBe('UnpricedModel');
    expect(failure.message).toMatch(/^maxCostUsd is set but local-llama has no price/);
    expect(setup.model.requests).toHaveLength(0);
  });
});

describe('a session', () => {
  const chat = (handle: Awaited<ReturnType<TestWorker['start']>>, text: string) =>
    handle.executeUpdate(chatUpdate, { args: [{ text }] });

  it('with default limits answers 150 turns of two steps each', async () => {
    setup.script = (request) =>
      request.messages.at(-1)!.role === 'user'
        ? reply.tools([{ name: 'research', args: { topic: lastOf(request, 'user')!.content } }], {
            input: 10,
            output: 2,
          })
        : reply.text(`re: ${lastOf(request, 'user')!.content}`, { input: 10, output: 2 });
    const handle = await setup.worker.start({ agent: 'researcher', message: 'turn 0', mode: 'session' });
    for (let turn = 1; turn < 150; turn++) expect(await chat(handle, `turn ${turn}`)).toBe(`re: turn ${turn}`);
    await handle.signal(endSignal);
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 're: turn 149', steps: 300 });
  }, 180_000);

  it('budgets each turn: a turn at its limit replies with its wrap-up and the session goes on', async () => {
    setup.script = (request) => {
      const asked = lastOf(request, 'user')!.content;
      if (isWrapUp(request)) return reply.text(WRAP_UP_ANSWER);
      if (asked === 'quick') return reply.text('quick answer');
      return reply.tools([{ name: 'research', args: { topic: `topic ${turnOf(request)}` } }]);
    };
    const handle = await setup.worker.start({
      agent: 'researcher',
      message: 'quick',
      mode: 'session',
      limits: { maxSteps: 2 },
    });
    expect(await chat(handle, 'deep')).toBe(WRAP_UP_ANSWER);
    expect(await chat(handle, 'quick')).toBe('quick answer');
    await handle.signal(endSignal);
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'quick answer', steps: 4 });
  });

  it('ends at a lifetime budget, answering the turn with its wrap-up', async () => {
    setup.script = (request) =>
      isWrapUp(request)
        ? reply.text(WRAP_UP_ANSWER)
        : request.messages.at(-1)!.role === 'user'
          ? reply.tools([{ name: 'research', args: { topic: `topic ${turnOf(request)}` } }])
          : reply.text('answered');
    const handle = await setup.worker.start({
      agent: 'researcher',
      message: 'one',
      mode: 'session',
      limits: { lifetime: { maxSteps: 3 } },
    });
    await waitForTurns(handle, 1);
    expect(await chat(handle, 'two')).toBe(WRAP_UP_ANSWER);
    expect(await handle.result()).toMatchObject({ status: 'limit_reached', limit: 'maxSteps', steps: 3 });
  });
});

/** Waits until the session has answered `count` turns. */
async function waitForTurns(handle: Awaited<ReturnType<TestWorker['start']>>, count: number): Promise<void> {
  for (;;) {
    const state = await handle.query(stateQuery);
    const answers = state.messages.filter(
      (message: ChatMessage) => message.role === 'assistant' && message.content !== null,
    );
    if (answers.length >= count && state.status === 'awaiting_input') return;
    await sleep(100);
  }
}

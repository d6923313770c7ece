/**
 * Pacing by the provider's token limits (issue #27): a model worker reads `x-ratelimit-*` from every
 * answer and, when the next call would spend more than is left, waits for the reset (saying so to
 * `status`) instead of spending a request on a 429; two workers of several calls at a time against a
 * server that refuses past its per-window budget get a burst of twice that budget through with at most
 * one 429.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { formatCallInFlight } from '../../cli/live-line';
import { runReport } from '../../client/run-report';
import type { CallInFlight } from '../../client/calls-in-flight';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { byTurn, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { startTestWorker, type TestWorker } from '../support/harness';

/** A tool result big enough that the call after it is estimated at well over 500 tokens. */
const PAGE = 'x'.repeat(4_000);

const reader = defineAgent({
  name: 'reader',
  instructions: 'Read the page, then answer.',
  tools: [
    defineTool({
      name: 'read_page',
      description: 'Reads the page.',
      input: z.object({}),
      execute: () => PAGE,
    }),
  ],
});
const answerer = defineAgent({
  name: 'answerer',
  instructions: 'Answer.',
  tools: [],
  // The output cap is part of each call's estimate, as providers count it.
  modelSettings: { max_completion_tokens: 60 },
});
const registry = () => new AgentRegistry().add([reader, answerer], 'test');

let model: ScriptedModel | undefined;
const workers: TestWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.stop()));
  await model?.close();
  model = undefined;
});

describe('a model worker paced by the provider', () => {
  it('waits out a 2 s token reset before a call estimated above the 500 tokens left, with no 429, and says so', async () => {
    model = await startScriptedModel(
      byTurn([
        {
          kind: 'message',
          toolCalls: [{ name: 'read_page', args: {} }],
          headers: { 'x-ratelimit-remaining-tokens': '500', 'x-ratelimit-reset-tokens': '2s' },
        },
        // Slow to answer: while it is asked, the call no longer says it waits.
        { kind: 'message', content: 'The page is all x.', delayMs: 1_500 },
      ]),
    );
    const worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl }, registry());
    workers.push(worker);
    const call = <T>(operation: () => Promise<T>) => operation();
    const handle = await worker.start({ agent: 'reader', message: 'What does the page say?' });
    // While it waits, `status` says what for.
    const seen: CallInFlight[] = [];
    const seenWhileAsked: CallInFlight[] = [];
    const watching = (async () => {
      while (!model!.requests[1]?.answeredAt) {
        const asked = model!.requests[1]?.receivedAt;
        const report = await runReport(worker.client, call, handle.workflowId).catch(() => undefined);
        const paced = (report?.callsInFlight ?? []).filter((inFlight) => inFlight.pacing);
        // A report begun half a second into the request reads the details the call sent as it went.
        (asked !== undefined && Date.now() - asked > 500 ? seenWhileAsked : seen).push(...paced);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    const result = await handle.result();
    await watching;
    expect(result.status).toBe('completed');
    const [first, second] = model.requests;
    expect(model.requests).toHaveLength(2);
    expect(model.requests.filter((request) => request.throttled)).toHaveLength(0);
    // The second request came only once the reset had passed: about 2 s after the first answer.
    const waited = second.receivedAt - first.answeredAt!;
    expect(waited).toBeGreaterThanOrEqual(1_900);
    expect(waited).toBeLessThan(5_000);
    expect(seen.length).toBeGreaterThan(0);
    expect(seenWhileAsked).toEqual([]);
    expect(seen[0].pacing?.limit).toBe('tokens');
    expect(formatCallInFlight(seen[0], seen[0].pacing!.resumesAtMs - 1_500)).toMatch(
      /^model gpt-4o-mini · step 2: pacing: provider token limit, resumes in 1\.5 s$/,
    );
  });

  it('two workers of four calls at a time get a burst of twice the window budget through, with at most one 429', async () => {
    // Each answer counts 80 tokens at the server, what the worker estimates of the call (20 tokens of
    // request and its 60-token cap), as OpenAI counts a request; a window ("minute") holds 10 of them.
    const usage = { input: 20, output: 60 };
    const budget = { tokensPerWindow: 800, windowMs: 2_000 };
    model = await startScriptedModel(() => reply.text('Done.', usage), { rateLimit: budget });
    const taskQueue = `test-${randomUUID()}`;
    // Four calls at a time per worker: side by side far from the limit, one at a time near it, so two
    // workers told the same remainder spend one call too many at most (side by side to the end: 2-4).
    const env = { OPENAI_BASE_URL: model.baseUrl, TASK_QUEUE: taskQueue, MODEL_CONCURRENCY: '4' };
    workers.push(await startTestWorker(env, registry()), await startTestWorker(env, registry()));
    const runs = 2 * (budget.tokensPerWindow / (usage.input + usage.output));
    const handles = await Promise.all(
      Array.from({ length: runs }, (_, index) => workers[0].start({ agent: 'answerer', message: `question ${index}` })),
    );
    const results = await Promise.all(handles.map((handle) => handle.result()));
    expect(results.map((result) => result.status)).toEqual(Array(runs).fill('completed'));
    const refused = model.requests.filter((request) => request.throttled);
    expect(refused.length).toBeLessThanOrEqual(1);
    expect(model.requests.length - refused.length).toBe(runs);
  });
});

/**
 * Runs on the model servers people run (issue #24), through the scripted server's compatibility
 * profiles: llama-cpp-python (refuses `content: null`, no usage in streams, ignores
 * `max_completion_tokens`), an endpoint with no usage at all, llama-server (output it cannot parse,
 * its context-size 400 and `/props`), vLLM (its context-size 400), and a model server that is down.
 */
import { z } from 'zod';
import { chatUpdate, endSignal } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { ErrorType } from '../../src/errors';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import type { AgentRunInput } from '../../src/input';
import {
  isSummaryRequest,
  lastOf,
  reply,
  serverProfiles,
  startScriptedModel,
  type Script,
  type ScriptedModel,
  type ServerProfile,
} from '../../testing';
import { UNPARSED_WRAP_UP } from '../../workflows/guidance';
import { startTestWorker, type TestWorker } from '../support/harness';
import { runFailureOf } from '../support/outcomes';

const MODEL = 'local-model';

const notes = defineAgent({
  name: 'notes',
  instructions: 'Look orders up and answer.',
  model: MODEL,
  tools: [
    defineTool({
      name: 'lookup_order',
      description: 'An order by id.',
      input: z.object({ orderId: z.string() }),
      execute: ({ orderId }) => ({ orderId, status: 'shipped' }),
    }),
  ],
});
const talker = defineAgent({ name: 'talker', instructions: 'Talk.', model: MODEL, tools: [] });
const registry = new AgentRegistry().add([notes, talker], 'test');

/** A scripted model server with `profile` and a worker on it; `script` may be swapped per test. */
interface Served {
  model: ScriptedModel;
  worker: TestWorker;
  script: Script;
  start(input: Omit<AgentRunInput, 'agent'> & { agent?: string }): ReturnType<TestWorker['start']>;
}

const running: Served[] = [];
afterAll(async () => {
  for (const { worker, model } of running.splice(0)) {
    await worker.stop();
    await model.close();
  }
});

async function serve(profile: ServerProfile | undefined, env: Record<string, string> = {}): Promise<Served> {
  const served = { script: () => reply.text('unscripted') } as unknown as Served;
  served.model = await startScriptedModel((request, index) => served.script(request, index), { profile });
  served.worker = await startTestWorker(
    { OPENAI_BASE_URL: served.model.baseUrl, AGENT_MODEL: MODEL, ...env },
    registry,
  );
  served.start = (input) => served.worker.start({ agent: 'notes', ...input } as AgentRunInput);
  running.push(served);
  return served;
}

/** Looks the order up once, then answers from the result. */
const lookUpThenAnswer: Script = (request) =>
  lastOf(request, 'tool')
    ? reply.text('Order 1042 has shipped.')
    : reply.tools([{ name: 'lookup_order', args: { orderId: '1042' } }]);

describe('llama-cpp-python (refuses content: null, no usage in streams, ignores max_completion_tokens)', () => {
  let served: Served;
  beforeAll(async () => {
    served = await serve(serverProfiles.llamaCppPython());
  });
  beforeEach(() => {
    served.model.requests.length = 0;
  });

  it('a tool-using run completes: the answer that called a tool goes back with content "", never null', async () => {
    served.script = lookUpThenAnswer;
    const result = await (await served.start({ message: 'Where is order 1042?' })).result();
    expect(result).toMatchObject({ status: 'completed', output: 'Order 1042 has shipped.', steps: 2 });
    const [, second] = served.model.requests;
    expect(second.messages.find((message) => message.role === 'assistant')).toMatchObject({ content: '' });
    const nulls = served.model.requests.flatMap((request) => request.messages).filter((m) => m.content === null);
    expect(nulls).toEqual([]);
    // Its streams carry no usage: counted by estimate, marked so, never zero.
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.byModel?.[MODEL]).toMatchObject({ calls: 2, estimated: true });
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('a wrap-up whose answer overruns the cap it ignored is cut at the cap, and the cap goes in max_tokens too from then on', async () => {
    const words = Array.from({ length: 600 }, (_, index) => `word${index} `);
    served.script = (request) =>
      request.maxCompletionTokens !== undefined ? reply.streamed(words, { everyMs: 2 }) : reply.text('unexpected');
    // 500 tokens leave no room for a step and its wrap-up: the first call is the wrap-up, capped.
    const first = await (await served.start({ message: 'Tell me everything.', limits: { maxTokens: 500 } })).result();
    expect(first).toMatchObject({ status: 'limit_reached', limit: 'maxTokens', steps: 1 });
    const [wrapUp] = served.model.requests;
    const cap = wrapUp.maxCompletionTokens!;
    expect(cap).toBeGreaterThan(32);
    expect(wrapUp.maxTokens).toBeUndefined();
    expect(Buffer.byteLength(String(first.output))).toBeLessThanOrEqual(cap * 4 + 3);
    expect(first.output).toMatch(/^word0 word1 .*…$/);
    expect(String(first.output).length).toBeLessThan(words.join('').length / 2);

    const second = await (await served.start({ message: 'Again.', limits: { maxTokens: 500 } })).result();
    expect(served.model.requests[1]).toMatchObject({
      maxCompletionTokens: expect.any(Number),
      maxTokens: expect.any(Number),
    });
    // Capped by the server this time (it honours max_tokens), at 4 bytes a token.
    expect(Buffer.byteLength(String(second.output))).toBeLessThanOrEqual(served.model.requests[1].maxTokens! * 4);
  });
});

describe('an endpoint that reports no usage', () => {
  it.each([
    ['streamed', {}],
    ['unstreamed', { MODEL_STREAMING: 'false' }],
  ])('(%s) is counted by estimate, non-zero and marked, and maxTokens holds on it', async (_case, env) => {
    const served = await serve(serverProfiles.noUsage(), env);
    let page = 0;
    served.script = () => reply.tools([{ name: 'lookup_order', args: { orderId: String((page += 1)) } }]);
    const result = await (
      await served.start({ message: 'Look up every order.', limits: { maxTokens: 3_000 } })
    ).result();
    expect(result).toMatchObject({ status: 'limit_reached', limit: 'maxTokens' });
    expect(result.steps).toBeGreaterThan(1);
    expect(result.usage.estimated).toBe(true);
    expect(result.usage.totalTokens).toBeGreaterThan(0);
    expect(result.usage.totalTokens).toBeLessThanOrEqual(3_000);
  });
});

describe('output the model server cannot parse (llama-server)', () => {
  it.each([
    ['an HTTP 500', { MODEL_STREAMING: 'false' }],
    ['an error event mid-stream', {}],
  ])('(%s) each time a step asks ends with an answer without tools', async (_case, env) => {
    const served = await serve(serverProfiles.llamaServer(), env);
    served.script = (request) =>
      request.tools?.length ? reply.unparsed() : reply.text('I could not look the order up; ask again later.');
    const result = await (await served.start({ message: 'Where is order 1042?' })).result();
    expect(result).toMatchObject({
      status: 'completed',
      output: 'I could not look the order up; ask again later.',
      steps: 2,
    });
    const withTools = served.model.requests.filter((request) => request.tools?.length);
    expect(withTools).toHaveLength(3);
    const last = served.model.requests.at(-1)!;
    expect(last.tools).toBeUndefined();
    expect(last.messages.at(-1)).toEqual(UNPARSED_WRAP_UP);
  });

  it('fails ModelOutputUnparsed only when the answer without tools cannot be parsed either', async () => {
    const served = await serve(serverProfiles.llamaServer(), { MODEL_UNPARSED_ATTEMPTS: '2' });
    served.script = () => reply.unparsed();
    const failure = await runFailureOf(await served.start({ message: 'Where is order 1042?' }));
    expect(failure.type).toBe(ErrorType.ModelOutputUnparsed);
    expect(failure.message).toBe(
      'model endpoint answered 500: The model produced output that does not match the expected peg-native format',
    );
    expect(served.model.requests.map((request) => Boolean(request.tools?.length))).toEqual([true, true, false, false]);
  });
});

describe('a request past the context window', () => {
  /** Eight messages of about 150 tokens (the profile counts 4 bytes a token): together, past a window of 1,000. */
  const paragraph = (label: string) => `${label}: ${'lorem ipsum dolor sit amet '.repeat(22)}`;
  const LABELS = ['second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth'];
  const answering: Script = (request) =>
    isSummaryRequest(request) ? reply.text('They sent long paragraphs of lorem ipsum.') : reply.text('Noted.');

  /** A session of eight long messages; the replies to the last seven. */
  async function talk(served: Served): Promise<unknown[]> {
    served.script = answering;
    const handle = await served.start({ agent: 'talker', mode: 'session', message: paragraph('first') });
    const replies = [];
    for (const label of LABELS)
      replies.push(await handle.executeUpdate(chatUpdate, { args: [{ text: paragraph(label) }] }));
    await handle.signal(endSignal);
    await handle.result();
    return replies;
  }

  const tooLong = (served: Served, window: number) =>
    served.model.requests.filter(
      (request) => Buffer.byteLength(JSON.stringify([request.messages, request.tools ?? []])) / 4 > window,
    );

  it.each([
    ['llama-server', serverProfiles.llamaServer({ window: 1_000, reportsWindow: false })],
    ['vLLM', serverProfiles.vllm({ window: 1_000, reportsWindow: false, model: MODEL })],
  ])(
    "(%s's 400) is followed by a summary and the request again, shorter, which is answered",
    async (_case, profile) => {
      const served = await serve(profile);
      expect(await talk(served)).toEqual(LABELS.map(() => 'Noted.'));
      const requests = served.model.requests;
      // Refused once (and not asked again unstreamed, as a refusal to stream would be).
      const refused = tooLong(served, 1_000);
      expect(refused).toHaveLength(1);
      const at = requests.indexOf(refused[0]);
      expect(isSummaryRequest(requests[at + 1])).toBe(true);
      const again = requests[at + 2];
      expect(again.messages.at(-1)).toEqual(refused[0].messages.at(-1));
      expect(again.messages.length).toBeLessThan(refused[0].messages.length);
      expect(again.messages.some((message) => message.content?.includes('They sent long paragraphs'))).toBe(true);
    },
  );

  it("is never sent when the server says its window (llama-server's /props): the run summarises before it", async () => {
    const served = await serve(serverProfiles.llamaServer({ window: 1_000 }));
    expect(await talk(served)).toEqual(LABELS.map(() => 'Noted.'));
    expect(tooLong(served, 1_000)).toEqual([]);
    expect(served.model.requests.filter(isSummaryRequest).length).toBeGreaterThan(0);
  });
});

describe('a model server that is down', () => {
  it('for 40 s: the run waits it out and completes', async () => {
    const served = await serve(undefined);
    served.script = lookUpThenAnswer;
    await served.model.takeDown();
    const startedAt = Date.now();
    const handle = await served.start({ message: 'Where is order 1042?' });
    await new Promise((resolve) => setTimeout(resolve, 40_000));
    await served.model.bringUp();
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'Order 1042 has shipped.' });
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(40_000);
  }, 150_000);

  it('past MODEL_UNAVAILABLE_SECONDS: the run fails ModelUnreachable', async () => {
    const served = await serve(undefined, { MODEL_UNAVAILABLE_SECONDS: '6', MODEL_MAX_ATTEMPTS: '2' });
    await served.model.takeDown();
    const startedAt = Date.now();
    const failure = await runFailureOf(await served.start({ message: 'Where is order 1042?' }));
    const elapsedMs = Date.now() - startedAt;
    expect(failure.type).toBe(ErrorType.ModelUnreachable);
    expect(failure.message).toMatch(/^model endpoint http:\/\/127\.0\.0\.1:\d+\/v1 unreachable: ECONNREFUSED /);
    expect(elapsedMs).toBeGreaterThanOrEqual(6_000);
    expect(elapsedMs).toBeLessThan(30_000);
  }, 60_000);
});

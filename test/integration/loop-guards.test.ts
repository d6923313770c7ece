/**
 * A model that goes round in circles, floods tool calls or says nothing ends in a defined outcome,
 * never a run that spends its whole budget or wedges; and messages reach only runs that take them.
 */
import { chatUpdate, endSignal, enqueueUpdate, messageSignal, searchAttributes, stateQuery } from '../../src/contract';
import { AgentRegistry } from '../../src/registry';
import type { ChatMessage } from '../../src/types';
import { lastOf, reply, turnOf, type ModelRequest } from '../../testing';
import { eventually } from '../support/eventually';
import { useScriptedWorker } from '../support/harness';
import { looperAgent } from '../support/looper-agent';
import { runFailureOf, updateRejectionOf } from '../support/outcomes';

/** Arguments `check_status` was run with, in order. */
let statusChecks: number[] = [];

const agent = looperAgent((job) => statusChecks.push(job));

const setup = useScriptedWorker({}, new AgentRegistry().add([agent], 'test'));
beforeEach(() => {
  statusChecks = [];
});

const WARNING = /Doing it again will not change the result/;
const warningsIn = (request: ModelRequest) =>
  request.messages.filter((message) => message.role === 'user' && WARNING.test(message.content)).length;
const toolMessages = (request: ModelRequest) =>
  request.messages.filter((message): message is Extract<ChatMessage, { role: 'tool' }> => message.role === 'tool');

describe('a stuck model', () => {
  it('repeating one call is warned once, then the run ends stuck within maxRepeats + 2 calls', async () => {
    setup.script = () => reply.tools([{ name: 'check_status', args: { job: 7 } }]);
    const handle = await setup.worker.start({ agent: 'looper', message: 'Is job 7 done?' });
    const result = await handle.result();

    expect(result).toMatchObject({ status: 'stuck', steps: 4 });
    expect(result.reason).toBe('the model repeated the tool call check_status {"job":7} 4 times in a row');
    // Two ran; the two repeats after them were not run.
    expect(result.output).toMatch(
      /^Stopped without an answer: .*check_status \{"job":7\}.*Tool calls: check_status \(2 ran, 2 not run\)\.$/,
    );
    expect(setup.model.requests.length).toBeLessThanOrEqual(3 + 2);
    // One warning, sent with the call after the third repeat; the repeats were not run again.
    expect(setup.model.requests.map(warningsIn)).toEqual([0, 0, 0, 1]);
    expect(statusChecks).toEqual([7, 7]);
    expect(toolMessages(setup.model.requests[3]).at(-1)!.content).toMatch(/Not run: this call repeats earlier ones/);
    const status = (await handle.describe()).typedSearchAttributes.get(searchAttributes.agentStatus);
    expect(status).toBe('stuck');
  });

  it('in a session ends only the turn: its notice is the reply, and the session answers the next message', async () => {
    const thanked = (request: ModelRequest) => request.messages.some((message) => message.content === 'Thanks anyway.');
    setup.script = (request) =>
      thanked(request) ? reply.text('You are welcome.') : reply.tools([{ name: 'check_status', args: { job: 7 } }]);
    const handle = await setup.worker.start({ agent: 'looper', message: 'Is job 7 done?', mode: 'session' });
    const stopped = /^Stopped without an answer: .*check_status \{"job":7\}/;
    const [first] = await Promise.all([
      handle.executeUpdate(chatUpdate, { args: [{ text: 'Thanks anyway.' }] }),
      // The second message waits for the first turn, which ends stuck; the session waits on.
      eventually(
        async () => (await handle.query(stateQuery)).messages.some((m) => stopped.test(m.content ?? '')),
        'the notice',
      ),
    ]);
    expect(first).toBe('You are welcome.');
    // The next turn's model read why the last one stopped, as the session's own answer.
    const last = setup.model.requests.at(-1)!;
    expect(
      last.messages.filter((message) => message.role === 'assistant' && stopped.test(message.content ?? '')),
    ).toHaveLength(1);
    expect(await handle.query(stateQuery)).toMatchObject({ status: 'awaiting_input' });
    await handle.signal(endSignal);
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'You are welcome.' });
  });

  it('counts the arguments as JSON, so reordered keys are the same call', async () => {
    const orders = ['{"job":1,"verbose":true}', '{"verbose":true,"job":1}', '{ "job": 1, "verbose": true }'];
    setup.script = (request) => reply.tools([{ name: 'check_status', args: orders[turnOf(request) % 3] }]);
    const result = await (
      await setup.worker.start({ agent: 'looper', message: 'Job 1?', limits: { maxRepeats: 2 } })
    ).result();
    expect(result).toMatchObject({ status: 'stuck', steps: 3 });
  });

  it('making new calls that bring back only results it has read is stuck too', async () => {
    setup.script = (request) => reply.tools([{ name: 'check_status', args: { job: turnOf(request) } }]);
    const result = await (await setup.worker.start({ agent: 'looper', message: 'Any job done?' })).result();
    // Results of calls 2-4 repeat call 1's: the warning follows call 4; call 5 brings nothing new either.
    expect(result).toMatchObject({ status: 'stuck', steps: 5 });
    expect(result.reason).toMatch(
      /returned only results it had already read, 4 answers in a row \(last: check_status \{"job":4\}\)/,
    );
    expect(setup.model.requests.map(warningsIn)).toEqual([0, 0, 0, 0, 1]);
  });

  it('that changes course after the warning goes on', async () => {
    setup.script = (request) =>
      warningsIn(request)
        ? reply.text('Job 7 is still pending.')
        : reply.tools([{ name: 'check_status', args: { job: 7 } }]);
    const result = await (await setup.worker.start({ agent: 'looper', message: 'Is job 7 done?' })).result();
    expect(result).toMatchObject({ status: 'completed', output: 'Job 7 is still pending.', steps: 4 });
  });
});

describe('off-spec answers', () => {
  it('2,500 tool calls in one answer: 64 run, the rest are answered as not run', async () => {
    setup.script = (request) =>
      turnOf(request) === 0
        ? reply.tools(Array.from({ length: 2_500 }, (_, job) => ({ name: 'check_status', args: { job } })))
        : reply.text('Checked the first 64.');
    const result = await (await setup.worker.start({ agent: 'looper', message: 'Check every job.' })).result();
    expect(result).toMatchObject({ status: 'completed', output: 'Checked the first 64.', steps: 2 });
    expect(statusChecks.sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, job) => job));
    const answers = toolMessages(setup.model.requests[1]);
    expect(answers).toHaveLength(2_500);
    expect(answers[64].content).toBe(
      'Not run: one answer may make at most 64 tool calls and this one made 2500. Make the calls you still need in your next answer.',
    );
  });

  it('the cap is the run input limits.maxToolCallsPerTurn', async () => {
    setup.script = (request) =>
      turnOf(request) === 0
        ? reply.tools(Array.from({ length: 5 }, (_, job) => ({ name: 'check_status', args: { job } })))
        : reply.text('Done.');
    const input = { agent: 'looper', message: 'Check jobs.', limits: { maxToolCallsPerTurn: 2 } };
    expect(await (await setup.worker.start(input)).result()).toMatchObject({ status: 'completed' });
    expect(statusChecks.sort()).toEqual([0, 1]);
  });

  it('always empty: the run fails with ModelNoAnswer after 3 answers', async () => {
    setup.script = () => reply.text('   ');
    const failure = await runFailureOf(await setup.worker.start({ agent: 'looper', message: 'Hello?' }));
    expect(failure.type).toBe('ModelNoAnswer');
    expect(failure.message).toBe('the model answered with neither text nor a tool call 3 times in a row');
    expect(setup.model.requests).toHaveLength(3);
  });
});

describe('messages', () => {
  it('a task refuses enqueue and ignores the message signal: no extra turn', async () => {
    setup.script = () => ({ ...reply.text('Done.'), delayMs: 1_000 });
    const handle = await setup.worker.start({ agent: 'looper', message: 'One thing.' });
    expect(await updateRejectionOf(handle.executeUpdate(enqueueUpdate, { args: [{ text: 'And another.' }] }))).toMatch(
      /this run is a task, not a session/,
    );
    await handle.signal(messageSignal, { text: 'And another.' });
    expect(await handle.result()).toMatchObject({ status: 'completed', steps: 1 });
    expect(JSON.stringify(setup.model.requests)).not.toContain('And another.');
  });

  it('messages queued before end are answered before the session ends', async () => {
    setup.script = (request) => ({ ...reply.text(`re: ${lastOf(request, 'user')?.content}`), delayMs: 300 });
    const handle = await setup.worker.start({ agent: 'looper', message: 'first', mode: 'session' });
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'second' }] });
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'third' }] });
    await handle.signal(endSignal);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 're: third', steps: 3 });
    expect(result.unansweredMessages).toBeUndefined();
    const state = await handle.query(stateQuery);
    expect(state.messages.filter((message) => message.role === 'assistant').map((message) => message.content)).toEqual([
      're: first',
      're: second',
      're: third',
    ]);
  });
});

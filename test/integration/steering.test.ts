/**
 * Steering on a real dev server and scripted model: a steer while a 3-second tool runs returns once
 * the run accepted the message; the message joins the turn when the tool has finished (never
 * interrupting it), so the model's very next request reads it, and the answer follows it; the same
 * when the run continues as new between the steer and that next step. Between turns a steer queues.
 * The durable-agents CLI's `send --steer` starts a Node process (2-3 s here), as long as the 3-second
 * tool: its "returns at once" is shown against a 10-second tool; the 3-second turn is steered with the
 * plain Temporal CLI (`temporal workflow update execute --name steer`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AgentClient, type RunStreamEvent } from '../../client/agent-client';
import { defineAgent } from '../../src/agent';
import { loadTemporalConfig } from '../../src/config';
import { stateQuery, steerUpdate } from '../../src/contract';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { runCli, runCommand } from '../support/cli';
import { temporalBinary } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { updateRejectionOf } from '../support/outcomes';
import { useScriptedWorker, type ScriptedWorker } from '../support/harness';
import { lastOf, reply, turnOf, type Script } from '../../testing';

const STEER = 'use order 1043 instead';
/** How long the lookup of each order takes. */
const LOOKUP_MS: Record<string, number> = { '1042': 3_000, '1044': 10_000 };

/** Each run of the slow tool: its order and when it started and finished. */
const lookups: { orderId: string; startedAt: number; endedAt?: number }[] = [];

const lookupOrder = defineTool({
  name: 'lookup_order',
  description: 'Look up an order.',
  input: z.object({ orderId: z.string() }),
  async execute({ orderId }) {
    const lookup: (typeof lookups)[number] = { orderId, startedAt: Date.now() };
    lookups.push(lookup);
    await sleep(LOOKUP_MS[orderId] ?? 0);
    lookup.endedAt = Date.now();
    return `order ${orderId}: shipped`;
  },
});
const orders = defineAgent({ name: 'orders', instructions: 'Answer about orders.', tools: [lookupOrder] });
const registry = new AgentRegistry().add([orders], 'test');

/** Looks up the order the first message names, then answers about the one the conversation last asked for. */
const script: Script = (request) => {
  const orderId = /order (\d+)/.exec(request.messages.find((message) => message.role === 'user')!.content)![1];
  if (turnOf(request) === 0) return reply.tools([{ name: 'lookup_order', args: { orderId } }]);
  const steered = request.messages.some((message) => message.role === 'user' && message.content === STEER);
  return reply.text(steered ? 'Switching to order 1043, as you asked.' : `Order ${orderId} has shipped.`);
};

/** The lookup running now, once it has started. */
const lookupInFlight = () =>
  eventually(async () => (lookups.length === 1 && !lookups[0].endedAt ? lookups[0] : undefined), 'the lookup to start');

/** Asserts the steered run's model requests and tool: the steer is the next request's last message, after the whole result. */
function expectSteeredTurn(served: ScriptedWorker, orderId = '1042'): void {
  const { requests } = served.model;
  expect(requests).toHaveLength(2);
  expect(requests[0].messages.some((message) => message.content === STEER)).toBe(false);
  const next = requests[1].messages;
  expect(next.at(-1)).toEqual({ role: 'user', content: STEER });
  // The tool ran once, to its end: its whole result is what the model read before the steer.
  expect(next.at(-2)).toMatchObject({ role: 'tool', content: `"order ${orderId}: shipped"` });
  expect(lookups).toHaveLength(1);
  expect(lookups[0].endedAt! - lookups[0].startedAt).toBeGreaterThanOrEqual(LOOKUP_MS[orderId]);
  expect(requests[1].receivedAt).toBeGreaterThanOrEqual(lookups[0].endedAt!);
}

beforeEach(() => {
  lookups.length = 0;
});

describe('steering a task run', () => {
  const served = useScriptedWorker({}, registry);

  it('joins the turn at its next step: the next request reads it, the answer follows it', async () => {
    served.script = script;
    const handle = await served.worker.start({ agent: 'orders', message: 'where is order 1042?' });
    const agents = await AgentClient.connect(
      loadTemporalConfig({ TEMPORAL_ADDRESS: served.worker.config.TEMPORAL_ADDRESS }),
    );
    const events: RunStreamEvent[] = [];
    const watching = (async () => {
      for await (const event of agents.stream(handle.workflowId)) events.push(event);
    })();
    try {
      await lookupInFlight();
      const sent = await runCommand(
        temporalBinary(),
        ['workflow', 'update', 'execute', '--workflow-id', handle.workflowId, '--name', 'steer'].concat([
          '--input',
          JSON.stringify({ text: STEER }),
          '--address',
          served.worker.config.TEMPORAL_ADDRESS,
        ]),
        { PATH: process.env.PATH! },
      );
      const returnedAt = Date.now();
      expect(sent).toMatchObject({ code: 0, stderr: '' });
      expect(sent.stdout).toContain('accepted: it joins the turn in progress at its next step');
      // It returned once accepted, while the tool was still running: it did not wait for the turn.
      expect(lookups[0].endedAt ?? Infinity).toBeGreaterThan(returnedAt);

      const result = await handle.result();
      expect(result).toMatchObject({ status: 'completed', output: 'Switching to order 1043, as you asked.', steps: 2 });
      expectSteeredTurn(served);
      // In the transcript as a user message, and told by the stream as it landed.
      await watching;
      expect(events).toContainEqual({ type: 'user', text: STEER });
      const transcript = await agents.transcript(handle.workflowId);
      expect(JSON.stringify(transcript)).toContain(STEER);
    } finally {
      await agents.close();
    }
  });

  it('takes send --steer from the durable-agents CLI, which returns once the run accepted it', async () => {
    served.script = script;
    const handle = await served.worker.start({ agent: 'orders', message: 'where is order 1044?' });
    await lookupInFlight();
    const env = {
      TEMPORAL_ADDRESS: served.worker.config.TEMPORAL_ADDRESS,
      TASK_QUEUE: served.worker.config.TASK_QUEUE,
    };
    const sent = await runCli(['send', handle.workflowId, STEER, '--steer'], env);
    const returnedAt = Date.now();
    expect(sent).toEqual({ code: 0, stdout: 'accepted: it joins the turn in progress at its next step\n', stderr: '' });
    expect(lookups[0].endedAt ?? Infinity).toBeGreaterThan(returnedAt);
    expect(await handle.result()).toMatchObject({
      status: 'completed',
      output: 'Switching to order 1043, as you asked.',
    });
    expectSteeredTurn(served, '1044');
  });

  it('refuses a steer that is empty or too large, or past the budget of messages of the run', async () => {
    served.script = () => reply.hang();
    const handle = await served.worker.start({ agent: 'orders', message: 'hi' });
    const steer = (text: string) => handle.executeUpdate(steerUpdate, { args: [{ text }] });
    expect(await updateRejectionOf(steer(' '))).toBe('text: must not be empty');
    expect(await updateRejectionOf(steer('x'.repeat(200_000)))).toBe('text: must be at most 131072 bytes (is 200002)');
    // Eight of these fit the 1 MiB the run takes in messages; the ninth is refused before it is recorded.
    for (let sent = 0; sent < 8; sent++) await steer('x'.repeat(130_000));
    expect(await updateRejectionOf(steer('x'.repeat(130_000)))).toBe(
      "this run's budget of 1048576 bytes of messages is spent",
    );
    await handle.cancel();
  });
});

describe('steering a session between turns', () => {
  const served = useScriptedWorker({}, registry);

  it('queues the message, as enqueue does, and answers it as the next turn', async () => {
    served.script = (request) => reply.text(`re: ${lastOf(request, 'user')?.content}`);
    const handle = await served.worker.start({ agent: 'orders', message: 'hello', mode: 'session' });
    await eventually(async () => (await handle.query(stateQuery)).status === 'awaiting_input', 'the first answer');
    const env = {
      TEMPORAL_ADDRESS: served.worker.config.TEMPORAL_ADDRESS,
      TASK_QUEUE: served.worker.config.TASK_QUEUE,
    };
    const sent = await runCli(['--json', 'send', handle.workflowId, 'and order 1043?', '--steer'], env);
    expect(JSON.parse(sent.stdout)).toEqual({ steered: true, outcome: 'queued (1 waiting): no turn is in progress' });
    // The step counts up when its model call starts; the turn is answered when the session waits again.
    const answered = async () => {
      const { step, status } = await handle.query(stateQuery);
      return step === 2 && status === 'awaiting_input';
    };
    await eventually(answered, 'the steer to be answered');
    const state = await handle.query(stateQuery);
    expect(state.messages.at(-1)).toEqual({ role: 'assistant', content: 're: and order 1043?' });
  });
});

describe('steering across continue-as-new', () => {
  // CONTINUE_AS_NEW_AT_BYTES=1: the run continues as new between steps as soon as that pays.
  const served = useScriptedWorker({ CONTINUE_AS_NEW_AT_BYTES: '1' }, registry);

  it('carries a steer that has not joined yet into the continuation, which joins it at its next step', async () => {
    served.script = script;
    const handle = await served.worker.start({ agent: 'orders', message: 'where is order 1042?' });
    const firstRunId = (await handle.describe()).runId;
    await lookupInFlight();
    expect(await handle.executeUpdate(steerUpdate, { args: [{ text: STEER }] })).toBe(
      'accepted: it joins the turn in progress at its next step',
    );
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'Switching to order 1043, as you asked.', steps: 2 });
    // The step after the steer ran in the continuation.
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    const first = await served.worker.client.workflow.getHandle(handle.workflowId, firstRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    expectSteeredTurn(served);
  });
});

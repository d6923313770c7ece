/**
 * Handoffs on a real dev server with a scripted model: a run handed from triage to billing goes on as
 * billing (its prompt, its tools) in the same workflow, says so in its result, state and `status`,
 * keeps it across continue-as-new (task and session), and cannot be passed back and forth without end.
 */
import { AgentClient } from '../../client/agent-client';
import { chatUpdate, endSignal, enqueueUpdate, stateQuery } from '../../src/contract';
import { loadTemporalConfig } from '../../src/config';
import { MAX_HANDOFFS_PER_TURN } from '../../src/defaults';
import { pluginApi } from '../../src/plugin-api';
import { AgentRegistry } from '../../src/registry';
import type { ChatMessage } from '../../src/types';
import type { ModelRequest } from '../../testing';
import { runCli } from '../support/cli';
import handoffAgents, { actingAgent, BILLING_INSTRUCTIONS, handoffScript, toolCalls } from '../support/handoff-agents';
import { eventually } from '../support/eventually';
import { useScriptedWorker } from '../support/harness';

// Past 30 KB of history (half the limit) a run continues as new between steps: ten statement pages do it.
const setup = useScriptedWorker(
  { CONTINUE_AS_NEW_AT_BYTES: '20000', HISTORY_LIMIT_BYTES: '60000' },
  new AgentRegistry().add(handoffAgents(pluginApi), 'handoff-agents'),
);
let client: AgentClient;
beforeAll(async () => {
  setup.script = handoffScript;
  client = await AgentClient.connect(loadTemporalConfig({ TEMPORAL_ADDRESS: setup.worker.config.TEMPORAL_ADDRESS }));
});
afterAll(() => client?.close());
beforeEach(() => {
  toolCalls.length = 0;
});

const toolNames = (request: ModelRequest) => (request.tools ?? []).map((tool) => tool.function.name);
const toolResults = (request: ModelRequest) =>
  request.messages.filter((message): message is Extract<ChatMessage, { role: 'tool' }> => message.role === 'tool');
const cliEnv = () => ({
  TEMPORAL_ADDRESS: setup.worker.config.TEMPORAL_ADDRESS,
  TASK_QUEUE: setup.worker.config.TASK_QUEUE,
});

describe('a handoff', () => {
  it('goes on as billing: its prompt, its tools, and the result names billing', async () => {
    const handle = await setup.worker.start({ agent: 'triage', message: 'invoice 7: was it paid?' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'billing: invoice 7 is paid.', answeredBy: 'billing' });
    expect(toolCalls).toEqual([{ tool: 'lookup_invoice', args: { invoice: '7' } }]);

    const [first, second, third] = setup.model.requests;
    expect(setup.model.requests).toHaveLength(3);
    // Triage's model sees its own tool and the transfer tool, described by billing's description.
    expect(actingAgent(first)).toBe('triage');
    expect(toolNames(first)).toEqual(['lookup_customer', 'transfer_to_billing']);
    expect(first.tools?.[1].function.description).toMatch(/billing.*Answers questions about invoices/);
    // From the next step on, the model reads billing's prompt (once) and is offered billing's tools.
    for (const request of [second, third]) {
      expect(actingAgent(request)).toBe('billing');
      expect(request.messages.filter((message) => message.role === 'system')).toEqual([
        { role: 'system', content: BILLING_INSTRUCTIONS },
      ]);
      expect(toolNames(request)).toEqual(['lookup_invoice', 'read_statement', 'transfer_to_triage']);
    }
    expect(toolResults(second).map((message) => message.content)).toEqual([
      'Transferred: "triage" handed the conversation to "billing", which takes it over from here. ' +
        'Reason given: "an invoice question"',
    ]);

    // The transcript, from history, records the transfer; status says who answered.
    const transcript = await client.transcript(handle.workflowId);
    const calls = transcript.messages.flatMap((message) =>
      message.role === 'assistant' ? (message.tool_calls ?? []).map((call) => call.function.name) : [],
    );
    expect(calls).toEqual(['transfer_to_billing', 'lookup_invoice']);
    const status = await runCli(['status', handle.workflowId], cliEnv());
    expect(status).toMatchObject({ code: 0, stdout: expect.stringContaining('answered by: billing') });
  });

  it('runs none of the other calls of its answer, and only its first transfer counts', async () => {
    const result = await (await setup.worker.start({ agent: 'triage', message: 'both: invoice 7 please' })).result();
    expect(result).toMatchObject({ status: 'completed', answeredBy: 'billing' });
    expect(toolCalls.map((call) => call.tool)).toEqual(['lookup_invoice']);
    const [notRun, transferred, secondTransfer] = toolResults(setup.model.requests[1]).map(
      (message) => message.content,
    );
    const why =
      'Not run: this answer also asked to transfer the conversation (transfer_to_billing), so none of its other calls ran.';
    expect(notRun).toBe(why);
    expect(transferred).toMatch(/^Transferred: "triage" handed the conversation to "billing"/);
    expect(secondTransfer).toBe(why);
  });

  it(`is refused past ${MAX_HANDOFFS_PER_TURN} in one turn, and agents passing it back and forth end stuck`, async () => {
    const result = await (await setup.worker.start({ agent: 'triage', message: 'ping-pong' })).result();
    expect(result.status).toBe('stuck');
    const last = setup.model.requests.at(-1)!;
    const results = toolResults(last).map((message) => message.content);
    expect(results.filter((content) => content.startsWith('Transferred: '))).toHaveLength(MAX_HANDOFFS_PER_TURN);
    expect(results).toContain(
      `Error: Not transferred to "billing": this turn has already changed agents ${MAX_HANDOFFS_PER_TURN} times, ` +
        'the most one turn may. Answer yourself.',
    );
    // Four transfers, then the refused ones until the loop guards end the run.
    expect(setup.model.requests.length).toBeLessThanOrEqual(MAX_HANDOFFS_PER_TURN + 5);
    expect(result.answeredBy).toBe(actingAgent(last));
  });

  it('survives a continue-as-new mid-turn: the continuation goes on as billing', async () => {
    const handle = await setup.worker.start({ agent: 'triage', message: 'statement: read it all' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'billing read 10 pages.', answeredBy: 'billing' });
    expect((await handle.describe()).runId).not.toBe(handle.firstExecutionRunId);
    // Triage asked once; every request after, before and after the continuation, was billing's.
    expect(setup.model.requests.map(actingAgent)).toEqual(['triage', ...Array(11).fill('billing')]);
    expect(toolCalls).toHaveLength(10);
  });
});

describe('a session handed to billing', () => {
  it('stays with billing for the next turns and across continue-as-new; state and status say so', async () => {
    const handle = await setup.worker.start({ agent: 'triage', message: 'invoice 7?', mode: 'session' });
    expect(await handle.executeUpdate(chatUpdate, { args: [{ text: 'what do I owe?' }] })).toBe(
      'billing heard: what do I owe?',
    );
    const state = await handle.query(stateQuery);
    expect(state).toMatchObject({ agent: 'triage', activeAgent: 'billing' });
    const status = await runCli(['status', handle.workflowId], cliEnv());
    expect(status.stdout).toMatch(/^agent: triage \(session\)\nactive agent: billing$/m);
    const json = JSON.parse((await runCli(['status', handle.workflowId, '--json'], cliEnv())).stdout) as object;
    expect(json).toMatchObject({ agent: 'triage', activeAgent: 'billing' });

    // A turn long enough to continue as new (queued: a `chat` waiting on its turn keeps a run from
    // continuing mid-turn), then one more in the continuation.
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'statement please' }] });
    await eventually(async () => (await handle.describe()).runId !== handle.firstExecutionRunId, 'a continuation');
    await eventually(
      async () => (await handle.query(stateQuery)).status === 'awaiting_input',
      'the statement turn to end',
    );
    const { messages } = await handle.query(stateQuery);
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: 'billing read 10 pages.' });
    expect(await handle.executeUpdate(chatUpdate, { args: [{ text: 'thanks' }] })).toBe('billing heard: thanks');
    expect(await handle.query(stateQuery)).toMatchObject({ activeAgent: 'billing' });
    await handle.signal(endSignal);
    expect(await handle.result()).toMatchObject({ status: 'completed', answeredBy: 'billing' });
  });
});

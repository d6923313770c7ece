/**
 * Sub-agents (issue #25): a lead agent's model calls its sub-agents as tools; each call is a child
 * run whose answer the lead's model reads, and the lead's usage is the tree's.
 */
import { z } from 'zod';
import { searchAttributes, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import type { AgentRunResult } from '../../src/types';
import { lastOf, reply, type ModelRequest, type Reply } from '../../testing';
import type { RunTreeNode } from '../../client/run-tree';
import { AgentClient } from '../../client/agent-client';
import type { TreeStreamEvent } from '../../client/tree-stream';
import { loadTemporalConfig } from '../../src/config';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { planner } from '../support/counting-agents';
import { startTestWorker, useScriptedWorker } from '../support/harness';

const lookups: string[] = [];

const researcher = defineAgent({
  name: 'researcher',
  description: 'Finds facts about a topic.',
  instructions: 'You research.',
  tools: [
    defineTool({
      name: 'search_notes',
      description: 'Searches the notes.',
      input: z.object({ query: z.string() }),
      execute: ({ query }) => {
        lookups.push(query);
        return { found: `notes on ${query}` };
      },
    }),
  ],
});
const writer = defineAgent({
  name: 'writer',
  description: 'Writes a paragraph from facts.',
  instructions: 'You write.',
  tools: [],
});
const lead = defineAgent({
  name: 'lead',
  instructions: 'You lead.',
  tools: [],
  agents: [researcher, 'writer'],
});

const registry = new AgentRegistry().add([lead, writer, planner], 'test');
const setup = useScriptedWorker({}, registry);

/** Which agent a request is for, by its instructions. */
const agentOf = (request: ModelRequest) => (request.messages[0].content as string).replace(/^You |\.$/g, '');
/** How many tool results the request carries. */
const toolResults = (request: ModelRequest) => request.messages.filter((message) => message.role === 'tool');

/** The lead asks the writer once, then answers with what the call's result said. */
const leadTellsWhatWriterSaid = (request: ModelRequest) =>
  toolResults(request).length
    ? reply.text(`Told: ${lastOf(request, 'tool')!.content}`)
    : reply.tools([{ name: 'writer', args: { message: 'write' } }]);

/** Answers each agent's n-th request from its own list. */
function scriptByAgent(replies: Record<string, (request: ModelRequest) => Reply>) {
  return (request: ModelRequest) => replies[agentOf(request)](request);
}

describe('sub-agents', () => {
  it('a lead with two sub-agents answers using both; its usage is the sum of the three runs', async () => {
    setup.script = scriptByAgent({
      lead: (request) =>
        toolResults(request).length
          ? reply.text(
              'Report: ' +
                toolResults(request)
                  .map((m) => m.content)
                  .join(' | '),
              { input: 300, output: 30 },
            )
          : reply.tools(
              [
                { name: 'researcher', args: { message: 'find facts on otters' } },
                { name: 'writer', args: { message: 'write about otters' } },
              ],
              { input: 200, output: 20 },
            ),
      research: (request) =>
        toolResults(request).length
          ? reply.text(`Facts: ${lastOf(request, 'tool')!.content}`, { input: 120, output: 12 })
          : reply.tools([{ name: 'search_notes', args: { query: 'otters' } }], { input: 100, output: 10 }),
      write: () => reply.text('Otters are playful.', { input: 50, output: 5 }),
    });
    const handle = await setup.worker.start({ agent: 'lead', message: 'Tell me about otters' });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.output).toBe('Report: Facts: {"found":"notes on otters"} | Otters are playful.');
    const child = (callId: string) => setup.worker.client.workflow.getHandle(`${handle.workflowId}/${callId}`);
    const research = (await child('1.1').result()) as AgentRunResult;
    const write = (await child('1.2').result()) as AgentRunResult;
    expect(research.usage.totalTokens).toBe(242);
    expect(write.usage.totalTokens).toBe(55);
    expect(result.ownUsage!.totalTokens).toBe(550);
    expect(result.usage.totalTokens).toBe(550 + 242 + 55);
    const state = await handle.query(stateQuery);
    expect(state.usage.totalTokens).toBe(847);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(searchAttributes.agentTokens)).toBe(847);
    expect((await child('1.1').describe()).parentExecution?.workflowId).toBe(handle.workflowId);
    expect(lookups).toEqual(['otters']);

    // status --json: the tree of three runs, each with its usage; the root's is their sum.
    const env = { TEMPORAL_ADDRESS: setup.worker.config.TEMPORAL_ADDRESS };
    const status = await eventually(async () => {
      const shown = JSON.parse((await runCli(['status', handle.workflowId, '--json'], env)).stdout) as {
        tokens: number;
        subAgents?: RunTreeNode[];
      };
      return shown.subAgents?.length === 2 ? shown : undefined;
    }, 'status to show both sub-agents');
    expect(status.tokens).toBe(847);
    expect(status.subAgents).toEqual([
      expect.objectContaining({
        workflowId: `${handle.workflowId}/1.1`,
        agent: 'researcher',
        status: 'completed',
        steps: 2,
        tokens: 242,
      }),
      expect.objectContaining({
        workflowId: `${handle.workflowId}/1.2`,
        agent: 'writer',
        status: 'completed',
        steps: 1,
        tokens: 55,
      }),
    ]);
    const text = (await runCli(['status', handle.workflowId], env)).stdout;
    expect(text).toContain(`\nSub-agents:\n  researcher · completed · 2 steps · 242 tokens`);
    // list shows the root alone; --all its sub-agents too.
    const listed = async (...args: string[]) =>
      (JSON.parse((await runCli(['list', '--agent', ...args, '--json'], env)).stdout) as { workflowId: string }[]).map(
        (run) => run.workflowId,
      );
    expect(await listed('researcher')).not.toContain(`${handle.workflowId}/1.1`);
    expect(await listed('researcher', '--all')).toContain(`${handle.workflowId}/1.1`);
    expect(await listed('lead')).toContain(handle.workflowId);

    // watch follows the sub-agents' runs too, each event labelled with its agent path; the root's ending last.
    const watched = (await runCli(['watch', handle.workflowId, '--json'], env)).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; tool?: string; agentPath?: string[] });
    expect(watched.find((event) => event.type === 'tool_call' && event.tool === 'search_notes')?.agentPath).toEqual([
      'researcher',
    ]);
    expect(watched.filter((event) => event.agentPath?.[0] === 'writer').map((event) => event.type)).toContain(
      'assistant',
    );
    expect(watched.at(-1)).toMatchObject({ type: 'result' });
    expect(watched.at(-1)!.agentPath).toBeUndefined();
    const watchedText = (await runCli(['watch', handle.workflowId], env)).stdout;
    expect(watchedText).toMatch(/^\[researcher\] .*search_notes/m);

    // transcript and export of the root carry the sub-agents' transcripts, in call order.
    const transcript = JSON.parse((await runCli(['transcript', handle.workflowId, '--json'], env)).stdout) as {
      subAgents: { workflowId: string; agent: string; messages: { role: string; content: string | null }[] }[];
    };
    expect(transcript.subAgents.map((sub) => [sub.workflowId, sub.agent])).toEqual([
      [`${handle.workflowId}/1.1`, 'researcher'],
      [`${handle.workflowId}/1.2`, 'writer'],
    ]);
    expect(transcript.subAgents[0].messages.map((message) => message.role)).toEqual([
      'system',
      'user',
      'assistant',
      'tool',
      'assistant',
    ]);
    const markdown = (await runCli(['export', handle.workflowId, '--format', 'md'], env)).stdout;
    const headings = markdown.split('\n').filter((line) => /^#{1,2} .*Run /i.test(line));
    expect(headings).toEqual([
      `# Run ${handle.workflowId}`,
      `## Sub-agent run ${handle.workflowId}/1.1`,
      `## Sub-agent run ${handle.workflowId}/1.2`,
    ]);
  });

  it("send shows the sub-agents of its own turn, labelled with their path; earlier turns' are left out", async () => {
    // Each turn the lead asks the writer for the user's words and answers with what it wrote.
    setup.script = scriptByAgent({
      lead: (request) =>
        request.messages.at(-1)!.role === 'user'
          ? reply.tools([{ name: 'writer', args: { message: lastOf(request, 'user')!.content } }])
          : reply.text(`Told: ${lastOf(request, 'tool')!.content}`),
      write: (request) => reply.text(`wrote: ${lastOf(request, 'user')!.content}`),
    });
    const handle = await setup.worker.start({ agent: 'lead', message: 'first', mode: 'session' });
    const env = { TEMPORAL_ADDRESS: setup.worker.config.TEMPORAL_ADDRESS };
    // The first turn's sub-agent answered before the second turn is sent (visibility may not list it yet).
    await eventually(async () => (await handle.query(stateQuery)).status === 'awaiting_input', 'the first turn');

    const sent = await runCli(['send', handle.workflowId, 'second', '--json'], env);
    expect(sent).toMatchObject({ code: 0, stderr: '' });
    const lines = sent.stdout.trim().split('\n');
    const events = lines.map((line) => JSON.parse(line) as { type: string; agentPath?: string[]; text?: string });
    expect(events.at(-1)).toEqual({ reply: 'Told: wrote: second' });
    const writer = events.filter((event) => event.agentPath?.join() === 'writer');
    expect(writer.filter((event) => event.type === 'assistant').map((event) => event.text)).toEqual(['wrote: second']);
    expect(sent.stdout).not.toContain('wrote: first');
    // The run lists the sub-agent runs it started, by id; send told of this turn's, before its events.
    const { subAgentRuns } = await handle.query(stateQuery);
    expect(subAgentRuns?.map((run) => [run.agent, run.workflowId])).toEqual([
      ['writer', `${handle.workflowId}/1.1`],
      ['writer', `${handle.workflowId}/3.1`],
    ]);
    const told = events.filter((event) => event.type === 'sub_agent');
    expect(told).toEqual([{ type: 'sub_agent', ...subAgentRuns![1] }]);
    expect(events.indexOf(told[0])).toBeLessThan(events.indexOf(writer[0]));
    await handle.cancel();
  });

  it('start --wait shows the sub-agents as they run, labelled, and the result last', async () => {
    setup.script = scriptByAgent({ lead: leadTellsWhatWriterSaid, write: () => reply.text('A short poem.') });
    const { TEMPORAL_ADDRESS, TASK_QUEUE } = setup.worker.config;
    const started = await runCli(['start', 'lead', 'Write', '--wait', '--json'], { TEMPORAL_ADDRESS, TASK_QUEUE });
    expect(started).toMatchObject({ code: 0, stderr: '' });
    const events = started.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type?: string; agentPath?: string[]; text?: string; workflowId?: string });
    const { workflowId } = events.at(-1)!;
    expect(events.at(-1)).toMatchObject({ result: { output: 'Told: A short poem.' } });
    expect(events.find((event) => event.type === 'sub_agent')).toMatchObject({
      agent: 'writer',
      workflowId: `${workflowId}/1.1`,
    });
    expect(events.find((event) => event.agentPath?.join() === 'writer' && event.type === 'assistant')).toMatchObject({
      text: 'A short poem.',
    });
  });

  it('a finished tree with no worker left streams from its histories what a worker tells', async () => {
    setup.script = scriptByAgent({
      lead: (request) =>
        toolResults(request).length
          ? reply.text('Done.')
          : reply.tools([
              { name: 'researcher', args: { message: 'find' } },
              { name: 'writer', args: { message: 'write' } },
            ]),
      research: (request) =>
        toolResults(request).length
          ? reply.text('Found.')
          : reply.tools([{ name: 'search_notes', args: { query: 'otters' } }]),
      write: () => reply.text('Written.'),
    });
    // A worker of its own, stopped once the tree has run.
    const own = await startTestWorker({ OPENAI_BASE_URL: setup.model.baseUrl }, registry);
    let ownRunning = true;
    const agents = await AgentClient.connect(loadTemporalConfig({ TEMPORAL_ADDRESS: own.config.TEMPORAL_ADDRESS }));
    try {
      const handle = await own.start({ agent: 'lead', message: 'Go' });
      await handle.result();
      // Each run's events, by the agent path that labels them (the streams merge in no fixed order).
      const tree = async () => {
        const events: Record<string, TreeStreamEvent[]> = {};
        for await (const event of agents.streamTree(handle.workflowId)) {
          (events[event.agentPath?.join('/') ?? ''] ??= []).push(event);
        }
        return events;
      };
      const told = await tree();
      const answers = (events: TreeStreamEvent[]) =>
        events.flatMap((event) => (event.type === 'assistant' && event.answer ? [event.text] : []));
      expect(Object.keys(told).sort()).toEqual(['', 'researcher', 'writer']);
      expect([told[''], told.researcher, told.writer].map(answers)).toEqual([['Done.'], ['Found.'], ['Written.']]);
      expect(told[''].filter((event) => event.type === 'sub_agent')).toHaveLength(2);
      await own.stop();
      ownRunning = false;
      expect(await tree()).toEqual(told);
    } finally {
      await agents.close();
      if (ownRunning) await own.stop();
    }
  });

  it('a call past limits.maxDepth is a tool error the model reads; no child starts', async () => {
    setup.script = scriptByAgent({ lead: leadTellsWhatWriterSaid });
    const handle = await setup.worker.start({ agent: 'lead', message: 'Write', limits: { maxDepth: 0 } });
    const result = await handle.result();
    expect(result.output).toBe(
      'Told: Error: Sub-agent writer was not run: sub-agents may not nest deeper here (limits.maxDepth). Answer with what you have.',
    );
    await expect(setup.worker.client.workflow.getHandle(`${handle.workflowId}/1.1`).describe()).rejects.toThrow(
      /not found/,
    );
  });

  it('a call whose run id would pass 255 bytes is a tool error the model reads; no child starts', async () => {
    setup.script = scriptByAgent({ lead: leadTellsWhatWriterSaid });
    // 253 bytes: `/1.1` would make the child's id 257, past what SQL persistence stores.
    const workflowId = `lead-${'x'.repeat(248)}`;
    const handle = await setup.worker.start({ agent: 'lead', message: 'Write' }, workflowId);
    expect((await handle.result()).output).toBe(
      "Told: Error: Sub-agent writer was not run: its run id would pass 255 bytes (this run's id is too long to nest under). Answer with what you have.",
    );
    expect(await setup.worker.client.workflow.count(`ParentWorkflowId = "${workflowId}"`)).toEqual({
      count: 0,
      groups: [],
    });
  });

  it("a sub-agent with an output schema answers its object, which the lead's model reads as JSON", async () => {
    setup.script = scriptByAgent({
      plan: (request) =>
        toolResults(request).length
          ? reply.text(`Counted: ${lastOf(request, 'tool')!.content}`)
          : reply.tools([{ name: 'counter', args: { message: 'count the otters' } }]),
      count: () => reply.text('{"count": 3}'),
    });
    const handle = await setup.worker.start({ agent: 'planner', message: 'How many otters?' });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'Counted: {"count":3}' });
    const child = (await setup.worker.client.workflow.getHandle(`${handle.workflowId}/1.1`).result()) as AgentRunResult;
    expect(child.output).toEqual({ count: 3 });
  });

  it('a sub-agent that fails counts in the tree with all it spent, its last call too', async () => {
    let counterCalls = 0;
    setup.script = scriptByAgent({
      plan: (request) =>
        toolResults(request).length
          ? reply.text(`Told: ${lastOf(request, 'tool')!.content}`, { input: 300, output: 30 })
          : reply.tools([{ name: 'counter', args: { message: 'count the otters' } }], { input: 200, output: 20 }),
      // Never the object its schema asks for: the run asks again, then fails `OutputInvalid` in the
      // task that took its last answer, whose report to the parent the server drops.
      count: () => {
        counterCalls += 1;
        return reply.text('about three', { input: 100, output: 10 });
      },
    });
    const handle = await setup.worker.start({ agent: 'planner', message: 'How many otters?' });
    const result = await handle.result();
    expect(result.output).toMatch(/^Told: Error: Sub-agent counter failed \(OutputInvalid\): /);
    expect(counterCalls).toBeGreaterThan(1);
    expect(result.ownUsage!.totalTokens).toBe(550);
    expect(result.usage.totalTokens).toBe(550 + counterCalls * 110);
    const described = await handle.describe();
    expect(described.typedSearchAttributes.get(searchAttributes.agentTokens)).toBe(550 + counterCalls * 110);
  });

  it('a sub-agent that fails is a tool error, not a failed lead', async () => {
    setup.script = scriptByAgent({
      lead: leadTellsWhatWriterSaid,
      write: () => ({ kind: 'error', status: 401, message: 'bad key sk-secret' }),
    });
    const result = await (await setup.worker.start({ agent: 'lead', message: 'Write' })).result();
    expect(result.status).toBe('completed');
    expect(result.output).toMatch(/^Told: Error: Sub-agent writer failed \(ModelAuthError\): /);
  });
});

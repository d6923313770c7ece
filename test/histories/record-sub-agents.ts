/**
 * Records the histories of trees of runs (sub-agents, issue #25) into a folder of their own
 * (`npx tsx test/histories/record-sub-agents.ts v9-subagents`): every run of each tree, the root as
 * `<scenario>.json`, a sub-agent's run as `<scenario>--<call path>.json` (`/` written `~`), each run
 * of a chain that continued as new numbered. The replay test replays each under the id it had.
 */
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { approvalUpdate, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { lastOf, reply, turnOf, type ModelRequest, type Reply } from '../../testing';
import { agentOf, middle } from '../support/clerk-agents';
import { eventually } from '../support/eventually';
import { recordHistories, saveTree, settledRun, type Scenario } from './saved-histories';

const researcher = defineAgent({
  name: 'researcher',
  description: 'Finds facts about a topic.',
  instructions: 'You are the researcher.',
  tools: [
    defineTool({
      name: 'search_notes',
      description: 'Searches the notes.',
      input: z.object({ query: z.string() }),
      execute: ({ query }) => ({ found: `notes on ${query}` }),
    }),
  ],
});
const writer = defineAgent({
  name: 'writer',
  description: 'Writes a paragraph.',
  instructions: 'You are the writer.',
  tools: [],
});
const lead = defineAgent({
  name: 'lead',
  instructions: 'You are the lead.',
  tools: [],
  agents: [researcher, writer, middle],
});

const USAGE = { input: 300, output: 50 };
const isWrapUp = (request: ModelRequest) =>
  /^\[The run's \w+ budget is nearly spent/.test(lastOf(request, 'user')?.content ?? '');
const asked = (request: ModelRequest) => request.messages.find((message) => message.role === 'user')!.content;
const toolBack = (request: ModelRequest) =>
  request.messages.at(-1)?.role === 'tool'
    ? request.messages.filter((message) => message.role === 'tool').map((message) => message.content)
    : undefined;

/** The lead delegates by the task's first word; each agent answers with what came back. */
function answer(request: ModelRequest): Reply {
  const agent = agentOf(request);
  const task = asked(request);
  if (isWrapUp(request)) return reply.text(`${agent}: wrapped up`, USAGE);
  const back = toolBack(request);
  if (back && !task.startsWith('spend')) return reply.text(`${agent}: ${back.join(' | ')}`, USAGE);
  const step = turnOf(request);
  if (agent === 'lead') {
    if (task.startsWith('two')) {
      return reply.tools(
        [
          { name: 'researcher', args: { message: 'research otters' } },
          { name: 'writer', args: { message: 'write about otters' } },
        ],
        USAGE,
      );
    }
    if (task.startsWith('spend')) {
      return reply.tools(
        [
          { name: 'researcher', args: { message: `spend: part A${step}` } },
          { name: 'researcher', args: { message: `spend: part B${step}` } },
        ],
        USAGE,
      );
    }
    if (task.startsWith('file') || task.startsWith('paperwork')) {
      return reply.tools([{ name: 'middle', args: { message: task } }], USAGE);
    }
    return reply.tools([{ name: 'researcher', args: { message: 'research otters' } }], USAGE);
  }
  if (agent === 'researcher') return reply.tools([{ name: 'search_notes', args: { query: `topic ${step}` } }], USAGE);
  if (agent === 'manager') return reply.tools([{ name: 'clerk', args: { message: task } }], USAGE);
  if (agent === 'clerk') {
    return task.startsWith('file')
      ? reply.tools([{ name: 'file_report', args: { title: 'Q3' } }], USAGE)
      : reply.tools([{ name: 'long_task', args: {} }], USAGE);
  }
  return reply.text('Otters are playful.', USAGE);
}

/** Waits for a run that may fail (a budget, a cancellation) to close. */
const settled = (handle: WorkflowHandle) => handle.result().catch(() => undefined);

/** Each scenario drives one tree to its end. */
const scenarios: Record<string, Scenario<'worker' | 'continuing'>> = {
  'sub-agent': settledRun({ agent: 'lead', message: 'one: otters' }),
  'concurrent-sub-agents': settledRun({ agent: 'lead', message: 'two: otters' }),
  'approval-in-grandchild': async (start) => {
    const handle = await start({ agent: 'lead', message: 'file: the Q3 report' });
    await eventually(async () => (await handle.query(stateQuery)).pendingApprovals.length > 0, 'the approval');
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1/1.1/1.1', approve: true }] });
    await settled(handle);
  },
  'budget-exhausted-by-children': settledRun({
    agent: 'lead',
    message: 'spend: forever',
    limits: { maxTokens: 6_000 },
  }),
  'cancel-tree': async (start) => {
    const handle = await start({ agent: 'lead', message: 'paperwork: now' });
    await eventually(async () => (await handle.query(stateQuery)).step >= 1, 'the lead to delegate');
    await sleep(3_000);
    await handle.cancel();
    await settled(handle);
  },
  'continue-as-new-parent-child-in-flight': {
    on: 'continuing',
    run: settledRun({ agent: 'lead', message: 'one: otters' }),
  },
};

const version = process.argv[2];
if (!version) throw new Error('usage: tsx test/histories/record-sub-agents.ts <folder>');
const registry = () => new AgentRegistry().add([lead], 'record-sub-agents');
recordHistories({
  folder: join(__dirname, version),
  script: answer,
  workers: {
    worker: { registry: registry() },
    // A run continues as new at its first step boundary past 3 KB: the lead's, after its sub-agent answered.
    continuing: { env: { CONTINUE_AS_NEW_AT_BYTES: '3000' }, registry: registry() },
  },
  scenarios,
  save: saveTree,
});

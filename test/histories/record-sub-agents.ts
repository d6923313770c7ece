/**
 * Records the histories of trees of runs (sub-agents, issue #25) into a folder of their own
 * (`npx tsx test/histories/record-sub-agents.ts v9-subagents`): every run of each tree, the root as
 * `<scenario>.json`, a sub-agent's run as `<scenario>--<call path>.json` (`/` written `~`), each run
 * of a chain that continued as new numbered. The replay test replays each under the id it had.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { z } from 'zod';
import { approvalUpdate, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { lastOf, reply, startScriptedModel, turnOf, type ModelRequest, type Reply } from '../../testing';
import { startDevServer, stopDevServer, temporalBinary } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';

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
const clerk = defineAgent({
  name: 'clerk',
  description: 'Files reports and does paperwork.',
  instructions: 'You are the clerk.',
  tools: [
    defineTool({
      name: 'file_report',
      description: 'Files a report (a person approves it).',
      input: z.object({ title: z.string() }),
      requiresApproval: true,
      execute: ({ title }) => ({ filed: title }),
    }),
    defineTool({
      name: 'long_task',
      description: 'Paperwork that takes a minute.',
      input: z.object({}),
      timeout: '90s',
      retry: { maximumAttempts: 1 },
      async execute(_args, ctx) {
        while (!ctx.signal.aborted) await sleep(200);
        throw ctx.signal.reason;
      },
    }),
  ],
});
const middle = defineAgent({
  name: 'middle',
  description: 'Manages the clerk.',
  instructions: 'You are the manager.',
  tools: [],
  agents: [clerk],
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
const agentOf = (request: ModelRequest) => /You are the (\w+)/.exec(request.messages[0].content as string)![1];
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

type Handle = WorkflowHandle;

/** Each scenario drives one tree to its end. */
const scenarios: Record<
  string,
  { on: 'worker' | 'continuing'; run: (start: (input: object) => Promise<Handle>) => Promise<Handle> }
> = {
  'sub-agent': { on: 'worker', run: async (start) => finished(await start({ agent: 'lead', message: 'one: otters' })) },
  'concurrent-sub-agents': {
    on: 'worker',
    run: async (start) => finished(await start({ agent: 'lead', message: 'two: otters' })),
  },
  'approval-in-grandchild': {
    on: 'worker',
    run: async (start) => {
      const handle = await start({ agent: 'lead', message: 'file: the Q3 report' });
      await eventually(async () => (await handle.query(stateQuery)).pendingApprovals.length > 0, 'the approval');
      await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1/1.1/1.1', approve: true }] });
      return finished(handle);
    },
  },
  'budget-exhausted-by-children': {
    on: 'worker',
    run: async (start) =>
      finished(await start({ agent: 'lead', message: 'spend: forever', limits: { maxTokens: 6_000 } })),
  },
  'cancel-tree': {
    on: 'worker',
    run: async (start) => {
      const handle = await start({ agent: 'lead', message: 'paperwork: now' });
      await eventually(async () => (await handle.query(stateQuery)).step >= 1, 'the lead to delegate');
      await sleep(3_000);
      await handle.cancel();
      return finished(handle);
    },
  },
  'continue-as-new-parent-child-in-flight': {
    on: 'continuing',
    run: async (start) => finished(await start({ agent: 'lead', message: 'one: otters' })),
  },
};

async function finished(handle: Handle): Promise<Handle> {
  await handle.result().catch(() => undefined);
  return handle;
}

/** Saves every run of the tree under `rootId`, each run of a chain numbered. */
function saveTree(address: string, folder: string, name: string, rootId: string): void {
  const temporal = (args: string[]) =>
    execFileSync(temporalBinary(), [...args, '--address', address, '-o', 'json'], { encoding: 'utf8' });
  const runs = (
    JSON.parse(temporal(['workflow', 'list', '--query', `RootWorkflowId = "${rootId}"`])) as {
      execution: { workflowId: string; runId: string };
      startTime: string;
    }[]
  ).sort((a, b) => a.startTime.localeCompare(b.startTime));
  const byId = new Map<string, string[]>();
  for (const { execution } of runs)
    byId.set(execution.workflowId, [...(byId.get(execution.workflowId) ?? []), execution.runId]);
  for (const [workflowId, runIds] of byId) {
    const below = workflowId.slice(rootId.length).replace(/^\//, '').replaceAll('/', '~');
    runIds.forEach((runId, index) => {
      const base = below ? `${name}--${below}` : name;
      const path = join(folder, runIds.length > 1 ? `${base}-${index + 1}.json` : `${base}.json`);
      writeFileSync(path, temporal(['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId]));
      console.log(`recorded ${path}`);
    });
  }
}

async function main(): Promise<void> {
  const version = process.argv[2];
  if (!version) throw new Error('usage: tsx test/histories/record-sub-agents.ts <folder>');
  const folder = join(__dirname, version);
  if (!existsSync(folder)) mkdirSync(folder, { recursive: true });
  const server = await startDevServer();
  const model = await startScriptedModel(answer);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_TMP_DIR = tmpdir();
  const registry = () => new AgentRegistry().add([lead], 'record-sub-agents');
  const settings = { OPENAI_BASE_URL: model.baseUrl, WORKFLOW_BUNDLE: undefined };
  const workers: Record<string, TestWorker> = {
    worker: await startTestWorker(settings, registry()),
    // A run continues as new at its first step boundary past 3 KB: the lead's, after its sub-agent answered.
    continuing: await startTestWorker({ ...settings, CONTINUE_AS_NEW_AT_BYTES: '3000' }, registry()),
  };
  try {
    for (const [name, { on, run }] of Object.entries(scenarios)) {
      const rootId = `history-${name}`;
      await run((input) => workers[on].start(input as never, rootId));
      await sleep(1_000); // visibility lists every run of the tree
      saveTree(server.address, folder, name, rootId);
    }
  } finally {
    for (const worker of Object.values(workers)) await worker.stop();
    await model.close();
    await stopDevServer(server.process);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

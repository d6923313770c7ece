/**
 * Records the histories of runs with MCP tools (`npm run histories:record-mcp -- v9-mcp`): a task on
 * server-filesystem (a read, a write held for approval) and a session on a server whose tool list
 * changes between its turns, each on a fresh dev server, saved as JSON beside record.ts's folders.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalUpdate, chatUpdate, endSignal, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { defineMcpServer } from '../../src/mcp-server';
import { AgentRegistry } from '../../src/registry';
import { lastOf, reply, startScriptedModel, type ModelRequest, type Reply } from '../../testing';
import { startDevServer, stopDevServer } from '../support/dev-server';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';
import { FILESYSTEM_SERVER } from '../support/mcp-servers';
import { saveChain } from './saved-histories';

/** The MCP servers and agents the scenarios run, in `folder` (the files the filesystem server may touch). */
function mcpRegistry(folder: string): AgentRegistry {
  const files = defineMcpServer({
    name: 'fs',
    command: process.execPath,
    args: [FILESYSTEM_SERVER, folder],
    requiresApproval: ['write_*'],
  });
  const changing = defineMcpServer({
    name: 'changing',
    command: process.execPath,
    args: [join(__dirname, '..', 'fixtures', 'mcp-changing-server.mjs')],
  });
  const agent = (name: string, server: typeof files) =>
    defineAgent({ name, instructions: 'Use your tools.', tools: [], mcpServers: [server] });
  return new AgentRegistry().add([agent('files', files), agent('changer', changing)], 'record-mcp');
}

/** What the model answers: each scenario's steps, by the conversation's last user message. */
function answerTo(folder: string) {
  return (request: ModelRequest): Reply => {
    const said = lastOf(request, 'user')?.content ?? '';
    const last = request.messages.at(-1)!;
    if (said === 'copy the notes' && last.role === 'user') {
      return reply.tools([{ name: 'fs_read_text_file', args: { path: join(folder, 'notes.txt') } }]);
    }
    if (said === 'copy the notes' && request.messages.filter((message) => message.role === 'tool').length === 1) {
      return reply.tools([{ name: 'fs_write_file', args: { path: join(folder, 'copy.txt'), content: 'milk' } }]);
    }
    if (said === 'add a tool' && last.role === 'user') {
      return reply.tools([{ name: 'changing_add_tool', args: { name: 'later' } }]);
    }
    if (said === 'use it' && last.role === 'user') return reply.tools([{ name: 'changing_later', args: {} }]);
    return reply.text(`Done: ${said}`);
  };
}

const scenarios: Record<string, (worker: TestWorker, workflowId: string) => Promise<string>> = {
  'task-mcp-read-and-approved-write': async (worker, workflowId) => {
    const handle = await worker.start({ agent: 'files', message: 'copy the notes' }, workflowId);
    await eventually(async () => (await handle.query(stateQuery)).pendingApprovals.length > 0, 'the write to wait');
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '2.1', approve: true }] });
    await handle.result();
    return handle.workflowId;
  },
  'session-mcp-tool-list-changes': async (worker, workflowId) => {
    const handle = await worker.start({ agent: 'changer', message: 'add a tool', mode: 'session' }, workflowId);
    await handle.executeUpdate(chatUpdate, { args: [{ text: 'use it' }] });
    await handle.executeUpdate(chatUpdate, { args: [{ text: 'thanks' }] });
    await handle.signal(endSignal);
    await handle.result();
    return handle.workflowId;
  },
};

async function main(): Promise<void> {
  const version = process.argv[2];
  if (!version || !/^v\d+-mcp$/.test(version)) throw new Error('usage: npm run histories:record-mcp -- v<N>-mcp');
  const folder = join(__dirname, version);
  if (existsSync(folder)) throw new Error(`${folder} exists: record into a new version, keep the old histories`);
  mkdirSync(folder);
  const files = join(tmpdir(), `record-mcp-${process.pid}`);
  mkdirSync(files, { recursive: true });
  writeFileSync(join(files, 'notes.txt'), 'milk');
  const server = await startDevServer();
  const model = await startScriptedModel(answerTo(files));
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_TMP_DIR = tmpdir();
  const worker = await startTestWorker(
    { OPENAI_BASE_URL: model.baseUrl, WORKFLOW_BUNDLE: undefined, AGENT_MODULES: undefined },
    mcpRegistry(files),
  );
  try {
    for (const [name, scenario] of Object.entries(scenarios)) {
      saveChain(server.address, folder, name, await scenario(worker, `history-${name}`));
    }
  } finally {
    await worker.stop();
    await model.close();
    await stopDevServer(server.process);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

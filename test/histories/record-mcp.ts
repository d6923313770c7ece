/**
 * Records the histories of runs with MCP tools (`npm run histories:record-mcp -- v9-mcp`): a task on
 * server-filesystem (a read, a write held for approval) and a session on a server whose tool list
 * changes between its turns, each on a fresh dev server, saved as JSON beside record.ts's folders.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approvalUpdate, chatUpdate, endSignal, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { defineMcpServer } from '../../src/mcp-server';
import { AgentRegistry } from '../../src/registry';
import { lastOf, reply, type ModelRequest, type Reply } from '../../testing';
import { eventually } from '../support/eventually';
import { FILESYSTEM_SERVER } from '../support/mcp-servers';
import { recordHistories } from './saved-histories';

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

const version = process.argv[2];
if (!version || !/^v\d+-mcp$/.test(version)) throw new Error('usage: npm run histories:record-mcp -- v<N>-mcp');
/** The files the filesystem server may touch. */
const files = join(tmpdir(), `record-mcp-${process.pid}`);
mkdirSync(files, { recursive: true });
writeFileSync(join(files, 'notes.txt'), 'milk');

recordHistories({
  folder: join(__dirname, version),
  script: answerTo(files),
  workers: { worker: { env: { AGENT_MODULES: undefined }, registry: mcpRegistry(files) } },
  scenarios: {
    'task-mcp-read-and-approved-write': async (start) => {
      const handle = await start({ agent: 'files', message: 'copy the notes' });
      await eventually(async () => (await handle.query(stateQuery)).pendingApprovals.length > 0, 'the write to wait');
      await handle.executeUpdate(approvalUpdate, { args: [{ callId: '2.1', approve: true }] });
      await handle.result();
    },
    'session-mcp-tool-list-changes': async (start) => {
      const handle = await start({ agent: 'changer', message: 'add a tool', mode: 'session' });
      await handle.executeUpdate(chatUpdate, { args: [{ text: 'use it' }] });
      await handle.executeUpdate(chatUpdate, { args: [{ text: 'thanks' }] });
      await handle.signal(endSignal);
      await handle.result();
    },
  },
});

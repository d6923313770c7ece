/**
 * MCP servers as tool sources (issue #26), against real servers this project did not write:
 * server-filesystem over stdio (reads and writes, the writes held for approval) and server-everything
 * over Streamable HTTP and SSE (several tools, an error, an image, structured content).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { approvalUpdate, stateQuery } from '../../src/contract';
import { z } from 'zod';
import { defineAgent } from '../../src/agent';
import { defineTool } from '../../src/tool';
import { defineMcpServer, fromEnv } from '../../src/mcp-server';
import { AgentRegistry } from '../../src/registry';
import { byTurn, reply, type ModelRequest } from '../../testing';
import { eventually } from '../support/eventually';
import { runFailureOf } from '../support/outcomes';
import { activitySummaries } from '../support/history';
import { useScriptedWorker, tempPath } from '../support/harness';
import { FILESYSTEM_SERVER, freePort, proxied, requestsOf, startEverythingHttp } from '../support/mcp-servers';

const folder = tempPath('mcp-files');
mkdirSync(folder, { recursive: true });
writeFileSync(join(folder, 'notes.txt'), 'remember the milk');
const fsLog = tempPath('fs-proxy.jsonl');

const files = defineMcpServer({
  name: 'fs',
  ...proxied(fsLog, FILESYSTEM_SERVER, folder),
  requiresApproval: ['write_*', 'edit_*', 'move_*'],
});

// Where the HTTP servers are, and a secret header, come from the worker's environment when it connects.
const everything = defineMcpServer({
  name: 'everything',
  url: '${EVERYTHING_URL}',
  headers: { Authorization: fromEnv('EVERYTHING_TOKEN') },
});
const legacy = defineMcpServer({ name: 'legacy', url: '${EVERYTHING_SSE_URL}' });
const SECRET = 'Bearer s3cret-token-never-in-history';

const registry = new AgentRegistry().add(
  [
    defineAgent({ name: 'files', instructions: 'Work with the files of the folder.', tools: [], mcpServers: [files] }),
    everything,
    defineAgent({ name: 'everything', instructions: 'Try the tools.', tools: [], mcpServers: ['everything'] }),
    defineAgent({ name: 'legacy', instructions: 'Try the tools.', tools: [], mcpServers: [legacy] }),
    // A tool of its own that has the name the model would see for one of the server's.
    defineAgent({
      name: 'clash',
      instructions: 'List the folder.',
      tools: [defineTool({ name: 'fs_list_directory', description: 'Lists.', input: z.object({}), execute: () => [] })],
      mcpServers: [files],
    }),
  ],
  'test',
);

const httpServers: Awaited<ReturnType<typeof startEverythingHttp>>[] = [];
beforeAll(async () => {
  const [streamable, sse] = await Promise.all([
    startEverythingHttp(await freePort()),
    startEverythingHttp(await freePort(), 'sse'),
  ]);
  httpServers.push(streamable, sse);
  process.env.EVERYTHING_URL = streamable.url;
  process.env.EVERYTHING_SSE_URL = sse.url;
  process.env.EVERYTHING_TOKEN = SECRET;
});
afterAll(async () => {
  for (const server of httpServers) await server.stop();
});

const scripted = useScriptedWorker({}, registry);

const toolMessages = (request: ModelRequest) => request.messages.filter((message) => message.role === 'tool');

describe('an agent with an MCP server over stdio (server-filesystem)', () => {
  it('reads a file, and writes one once a person approved the write', async () => {
    const written = join(folder, 'copy.txt');
    scripted.script = byTurn([
      reply.tools([{ name: 'fs_read_text_file', args: { path: join(folder, 'notes.txt') } }]),
      reply.tools([{ name: 'fs_write_file', args: { path: written, content: 'remember the milk (copy)' } }]),
      reply.text('Copied.'),
    ]);
    const handle = await scripted.worker.start({ agent: 'files', message: 'copy notes.txt to copy.txt' });
    const waiting = await eventually(async () => {
      const state = await handle.query(stateQuery);
      return state.pendingApprovals.length ? state.pendingApprovals : undefined;
    }, 'the write to wait for approval');
    expect(waiting).toEqual([
      { callId: '2.1', tool: 'fs_write_file', args: expect.objectContaining({ path: written }) },
    ]);
    expect(() => readFileSync(written)).toThrow();
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '2.1', approve: true }] });
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Copied.' });
    expect(readFileSync(written, 'utf8')).toBe('remember the milk (copy)');

    const [first, second, third] = scripted.model.requests;
    // The model sees the server's tools under `fs_`, with the input schemas the server gave.
    const offered = new Map(first.tools!.map((tool) => [tool.function.name, tool.function]));
    expect([...offered.keys()]).toEqual(
      expect.arrayContaining(['fs_read_text_file', 'fs_write_file', 'fs_list_directory']),
    );
    expect(offered.get('fs_write_file')!.parameters).toMatchObject({
      type: 'object',
      properties: { path: { type: 'string' }, content: { type: 'string' } },
      required: expect.arrayContaining(['path', 'content']),
    });
    expect(toolMessages(second)).toEqual([expect.objectContaining({ content: 'remember the milk' })]);
    expect(toolMessages(third).at(-1)!.content).toContain('Successfully wrote to');
    expect(await activitySummaries(handle)).toEqual([
      'mcp fs · tools/list',
      'model gpt-4o-mini · step 1',
      'tool fs_read_text_file',
      'model gpt-4o-mini · step 2',
      'tool fs_write_file',
      'model gpt-4o-mini · step 3',
    ]);
    // Each call carried the run's idempotency key in `_meta`.
    const calls = requestsOf(fsLog, 'tools/call');
    const key = (callId: string) => `${handle.workflowId}/${handle.firstExecutionRunId}/${callId}`;
    expect(calls.map(({ tool, meta }) => ({ tool, key: meta?.['durable-agents/idempotencyKey'] }))).toEqual([
      { tool: 'read_text_file', key: key('1.1') },
      { tool: 'write_file', key: key('2.1') },
    ]);
  });
});

describe('MCP tool names', () => {
  it('that clash with a tool of the agent fail the run at its listing, naming both', async () => {
    scripted.script = () => reply.text('never asked');
    const handle = await scripted.worker.start({ agent: 'clash', message: 'list' });
    expect(await runFailureOf(handle)).toMatchObject({
      type: 'McpToolNameClash',
      message:
        'tool "list_directory" of MCP server "fs" and the agent\'s tool "fs_list_directory" are both ' +
        '"fs_list_directory" for the model: rename the server (or the agent\'s tool)',
    });
    expect(scripted.model.requests).toHaveLength(0);
  });
});

describe('an agent with an MCP server over HTTP (server-everything)', () => {
  it('calls several tools over Streamable HTTP: text, a sum, an image, an error, structured content', async () => {
    scripted.script = byTurn([
      reply.tools([
        { name: 'everything_echo', args: { message: 'hello' } },
        { name: 'everything_get-sum', args: { a: 2, b: 40 } },
        { name: 'everything_get-tiny-image', args: {} },
        { name: 'everything_echo', args: { text: 'the wrong argument' } },
        { name: 'everything_get-structured-content', args: { location: 'Chicago' } },
      ]),
      reply.text('Tried them all.'),
    ]);
    const handle = await scripted.worker.start({ agent: 'everything', message: 'try your tools' });
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Tried them all.' });
    const [first, second] = scripted.model.requests;
    expect(first.tools!.map((tool) => tool.function.name)).toEqual(
      expect.arrayContaining(['everything_echo', 'everything_get-sum', 'everything_trigger-long-running-operation']),
    );
    const [echo, sum, image, error, structured] = toolMessages(second).map((message) => message.content);
    expect(echo).toBe('Echo: hello');
    expect(sum).toContain('42');
    // The image is described, never dropped silently: a tool message carries text only.
    expect(image).toMatch(/\[image image\/png, \d+ bytes, not shown: a tool result reaches the model as text\]/);
    // `isError`: the model reads the server's words as an error.
    expect(error).toMatch(/^Error: .*Input validation error/);
    expect(JSON.parse(structured.slice(structured.indexOf('{')))).toMatchObject({ temperature: expect.any(Number) });
    // The header's secret reached the server from the worker's environment, never the history.
    expect(JSON.stringify(await handle.fetchHistory())).not.toContain('s3cret');
  });

  it('opens a new session when the server forgot its own (it restarted)', async () => {
    scripted.script = byTurn([
      reply.tools([{ name: 'everything_echo', args: { message: 'again' } }]),
      reply.text('ok'),
    ]);
    const before = await scripted.worker.start({ agent: 'everything', message: 'echo' });
    expect(await before.result()).toMatchObject({ status: 'completed' });
    const restarted = httpServers[0];
    const port = Number(new URL(restarted.url).port);
    await restarted.stop();
    httpServers[0] = await startEverythingHttp(port);
    const after = await scripted.worker.start({ agent: 'everything', message: 'echo' });
    expect(await after.result()).toMatchObject({ status: 'completed', output: 'ok' });
    expect(toolMessages(scripted.model.requests.at(-1)!)).toEqual([
      expect.objectContaining({ content: 'Echo: again' }),
    ]);
    // Within the call's first attempt: the stale session cost no retry.
    const attempts = ((await after.fetchHistory()).events ?? []).map(
      (event) => event.activityTaskStartedEventAttributes?.attempt,
    );
    expect(attempts.filter(Boolean).every((attempt) => attempt === 1)).toBe(true);
  });

  it('falls back to SSE for a server that only speaks it', async () => {
    scripted.script = byTurn([reply.tools([{ name: 'legacy_echo', args: { message: 'over sse' } }]), reply.text('ok')]);
    const handle = await scripted.worker.start({ agent: 'legacy', message: 'echo' });
    expect(await handle.result()).toMatchObject({ status: 'completed', output: 'ok' });
    expect(toolMessages(scripted.model.requests[1])).toEqual([expect.objectContaining({ content: 'Echo: over sse' })]);
  });
});

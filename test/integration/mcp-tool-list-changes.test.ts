/**
 * An MCP server's tool list that changes while runs use it (issue #26): a run keeps the list it
 * recorded, replays on its history alone, and a new run (a session's next turn) gets the new list.
 * The server is test/fixtures/mcp-changing-server.mjs, behind the logging proxy.
 */
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { chatUpdate, endSignal } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { defineMcpServer } from '../../src/mcp-server';
import { AgentRegistry } from '../../src/registry';
import { DROPPED_SPANS } from '../../runtime/worker-tracing';
import type { McpToolList } from '../../src/activity-contract';
import { byTurn, lastOf, reply, type ModelRequest } from '../../testing';
import { activityResults } from '../support/history';
import { tempPath, useScriptedWorker } from '../support/harness';
import { proxied, requestsOf } from '../support/mcp-servers';

const log = tempPath('changing.jsonl');
const changing = defineMcpServer({
  name: 'changing',
  ...proxied(log, join(__dirname, '..', 'fixtures', 'mcp-changing-server.mjs')),
});
const registry = new AgentRegistry().add(
  [defineAgent({ name: 'changer', instructions: 'Use your tools.', tools: [], mcpServers: [changing] })],
  'test',
);
// A long cache: only the server's list_changed can make the worker list again.
const scripted = useScriptedWorker({ MCP_LIST_TTL_SECONDS: '3600' }, registry);

const offered = (request: ModelRequest) => request.tools!.map((tool) => tool.function.name).sort();

describe('an MCP tool list that changes', () => {
  it('leaves a run on the list it recorded (and its replay on its history); a new run sees the new list', async () => {
    scripted.script = (request) =>
      lastOf(request, 'user')!.content === 'add one'
        ? byTurn([reply.tools([{ name: 'changing_add_tool', args: { name: 'fresh' } }]), reply.text('Added.')])(
            request,
            0,
          )
        : reply.text('I see my tools.');
    const first = await scripted.worker.start({ agent: 'changer', message: 'add one' });
    expect(await first.result()).toMatchObject({ status: 'completed', output: 'Added.' });
    const [before, after] = scripted.model.requests;
    expect(offered(before)).toEqual(['changing_add_tool', 'changing_ping']);
    // The server's list changed during the run (its call added a tool); the run kept its own.
    expect(lastOf(after, 'tool')!.content).toBe('added fresh');
    expect(offered(after)).toEqual(offered(before));

    // Its replay needs nothing but its history: no server is asked.
    const listsBefore = requestsOf(log, 'tools/list').length;
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, sinks: DROPPED_SPANS },
      await first.fetchHistory(),
      first.workflowId,
    );
    expect(requestsOf(log, 'tools/list')).toHaveLength(listsBefore);

    const second = await scripted.worker.start({ agent: 'changer', message: 'what tools?' });
    expect(await second.result()).toMatchObject({ status: 'completed' });
    expect(offered(scripted.model.requests.at(-1)!)).toEqual(['changing_add_tool', 'changing_fresh', 'changing_ping']);
    // The worker listed again because the server said its list changed, not because its cache expired.
    expect(requestsOf(log, 'tools/list')).toHaveLength(listsBefore + 1);
  });

  it('gives a session the new list at its next turn, recording a list only when it changed', async () => {
    scripted.script = (request) => {
      const said = lastOf(request, 'user')!.content;
      if (said === 'add later' && request.messages.at(-1)!.role === 'user') {
        return reply.tools([{ name: 'changing_add_tool', args: { name: 'later' } }]);
      }
      return reply.text(`tools: ${offered(request).join(', ')}`);
    };
    const handle = await scripted.worker.start({ agent: 'changer', message: 'add later', mode: 'session' });
    expect(await handle.executeUpdate(chatUpdate, { args: [{ text: 'and now?' }] })).toContain('changing_later');
    expect(await handle.executeUpdate(chatUpdate, { args: [{ text: 'and still?' }] })).toContain('changing_later');
    await handle.signal(endSignal);
    await handle.result();
    // The first turn's answer came with the list the turn started with.
    expect(scripted.model.requests[1].tools!.map((tool) => tool.function.name)).not.toContain('changing_later');
    // Each turn listed; the history holds a list only when it changed.
    const lists = await activityResults<McpToolList>(handle, 'listMcpTools');
    const names = lists.map((list) => ('unchanged' in list ? 'unchanged' : list.tools.map((tool) => tool.name).sort()));
    expect(names).toHaveLength(3);
    expect(names[0]).not.toContain('later');
    expect(names[1]).toEqual([...(names[0] as string[]), 'later'].sort());
    expect(names[2]).toBe('unchanged');
  });
});

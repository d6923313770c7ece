/**
 * The parts of `durable-agents mcp` that need no Temporal: who must send a token, how a run's events
 * read as bounded progress lines, how a run's state maps to an MCP task's, and that the tools refuse
 * bad input before they ask Temporal anything (the server here has a client that only records starts).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { AgentClient } from '../../client/agent-client';
import { createAgentToolsServer, type AgentTool } from '../../cli/mcp/agent-tools-server';
import { isLoopback, listenerToken } from '../../cli/mcp/mcp-http-listener';
import { PROGRESS_QUOTE_CHARS, progressMessage } from '../../cli/mcp/mcp-progress';
import { taskOf } from '../../cli/mcp/run-task-store';
import { toolError } from '../../cli/mcp/run-tool-results';

describe('the HTTP listener', () => {
  it('knows loopback addresses from the others', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1'].map(isLoopback)).toEqual([true, true, true, true]);
    expect(['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', '::ffff:10.0.0.1'].map(isLoopback)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('requires a token beyond loopback and with --require-token, and takes one wherever it is set', () => {
    expect(listenerToken('127.0.0.1', undefined, false)).toBeUndefined();
    expect(() => listenerToken('0.0.0.0', undefined, false)).toThrow(/beyond loopback, needs a bearer token/);
    expect(() => listenerToken('::', undefined, false)).toThrow(/needs a bearer token/);
    expect(() => listenerToken('127.0.0.1', undefined, true)).toThrow(/--require-token needs a bearer token/);
    expect(listenerToken('0.0.0.0', 'secret', false)).toBe('secret');
    expect(listenerToken('127.0.0.1', 'secret', false)).toBe('secret');
  });
});

describe('progress lines', () => {
  it("tell a step's text so far by its newest part, bounded, and start again after a retry", () => {
    const written = new Map<number, string>();
    expect(progressMessage({ type: 'text', step: 1, attempt: 1, text: 'Hello' }, written)).toBe('step 1: Hello');
    expect(progressMessage({ type: 'text', step: 1, attempt: 1, text: ' world' }, written)).toBe('step 1: Hello world');
    const long = progressMessage({ type: 'text', step: 1, attempt: 1, text: 'x'.repeat(5_000) }, written)!;
    expect(long).toBe(`step 1: …${'x'.repeat(PROGRESS_QUOTE_CHARS)}`);
    expect(progressMessage({ type: 'retry', step: 1, attempt: 2, discarded: 'Hello' }, written)).toBe(
      'step 1: the model call is retried',
    );
    expect(progressMessage({ type: 'text', step: 1, attempt: 2, text: 'Hi' }, written)).toBe('step 1: Hi');
  });

  it('tell tool calls, approvals and answers with their quotes bounded, and leave out what says nothing', () => {
    const written = new Map<number, string>();
    const args = JSON.stringify({ q: 'y'.repeat(1_000) });
    const call = progressMessage({ type: 'tool_call', callId: 'call_1', tool: 'search', args }, written)!;
    expect(call).toBe(`calling search ${args.slice(0, PROGRESS_QUOTE_CHARS)}…`);
    expect(progressMessage({ type: 'approval', callId: '2.1', tool: 'issue_refund', args: {} }, written)).toBe(
      'call 2.1 (issue_refund) awaits approval: agent_approve decides it',
    );
    expect(progressMessage({ type: 'assistant', text: 'Done.', answer: true }, written)).toBe('answer: Done.');
    expect(progressMessage({ type: 'assistant', text: 'Let me look.', answer: false }, written)).toBeUndefined();
    expect(progressMessage({ type: 'user', text: 'hi' }, written)).toBeUndefined();
  });
});

describe('runs as tasks', () => {
  const run = { workflowId: 'run-1', startTime: new Date('2026-01-01T00:00:00Z') };

  it('are cancelled, saying the run is stopping, once a cancel was asked of a run still open', () => {
    expect(taskOf({ ...run, closed: false, status: 'running', cancelRequested: true })).toMatchObject({
      status: 'cancelled',
      statusMessage: 'cancel requested: run run-1 is stopping',
    });
    // A closed run says how it really ended, whatever was asked of it.
    expect(taskOf({ ...run, closed: true, status: 'completed', cancelRequested: true }).status).toBe('completed');
  });

  it('are working while open, then completed, cancelled or failed as the run ended', () => {
    expect(taskOf({ ...run, closed: false, status: 'awaiting_approval' })).toMatchObject({
      taskId: 'run-1',
      status: 'working',
      statusMessage: expect.stringMatching(/^awaiting approval: agent_status lists the calls of run run-1/),
      createdAt: '2026-01-01T00:00:00.000Z',
      ttl: null,
    });
    const ended = (status: string) => taskOf({ ...run, closed: true, status }).status;
    expect(
      ['completed', 'limit_reached', 'stuck', 'cancelled', 'failed', 'terminated', 'timed_out'].map(ended),
    ).toEqual(['completed', 'completed', 'completed', 'cancelled', 'failed', 'failed', 'failed']);
  });
});

describe('tool errors', () => {
  it('are one line of the message, never a stack', () => {
    const error = new Error('run x failed\n  with this');
    expect(toolError(error)).toEqual({ content: [{ type: 'text', text: 'run x failed with this' }], isError: true });
  });
});

describe('tool inputs', () => {
  const tools: AgentTool[] = [
    { name: 'helpdesk', description: 'Answers.' },
    { name: 'billing', description: 'Bills.' },
  ];

  /** A client of a server with `tools`, whose AgentClient records every run it is asked to start. */
  async function connected(served: AgentTool[]) {
    const starts: unknown[] = [];
    const agents = {
      start: async (input: unknown) => {
        starts.push(input);
        throw new Error('this test has no Temporal');
      },
    } as unknown as AgentClient;
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    const server = createAgentToolsServer(agents, served, '0.0.0');
    await server.connect(serverSide);
    const client = new Client({ name: 'jest', version: '1.0.0' });
    await client.connect(clientSide);
    const call = async (name: string, args: Record<string, unknown>) => {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
      return { isError: result.isError, text };
    };
    return { client, starts, call, close: () => Promise.all([client.close(), server.close()]) };
  }

  it("list the served agents as agent_send's agent, and refuse any other name before starting a run", async () => {
    const { client, starts, call, close } = await connected(tools);
    try {
      const send = (await client.listTools()).tools.find((tool) => tool.name === 'agent_send')!;
      expect(send.inputSchema.properties?.agent).toMatchObject({ enum: ['helpdesk', 'billing'] });
      const ghost = await call('agent_send', { agent: 'ghost-agent', message: 'hi' });
      expect(ghost.isError).toBe(true);
      expect(ghost.text).toMatch(/^[^\n]*agent must be one of the agents this server serves: helpdesk, billing/);
      expect(starts).toEqual([]);
    } finally {
      await close();
    }
  });

  it('take no agent for agent_send from a server with no agents, and want exactly one of runId and agent', async () => {
    const { starts, call, close } = await connected([]);
    try {
      const any = await call('agent_send', { agent: 'helpdesk', message: 'hi' });
      expect(any).toEqual({ isError: true, text: expect.stringMatching(/this server serves no agents: give runId/) });
      const neither = await call('agent_send', { message: 'hi' });
      expect(neither).toEqual({ isError: true, text: expect.stringMatching(/give exactly one of runId .* and agent/) });
      expect(neither.text).not.toMatch(/not both/);
      expect(starts).toEqual([]);
    } finally {
      await close();
    }
  });

  it("refuse keys an agent's tool does not know, before starting a run", async () => {
    const { client, starts, call, close } = await connected(tools);
    try {
      const helpdesk = (await client.listTools()).tools.find((tool) => tool.name === 'helpdesk')!;
      expect(helpdesk.inputSchema).toMatchObject({ required: ['message'], additionalProperties: false });
      const extra = await call('helpdesk', { message: 'hi', extra: 1 });
      expect(extra).toEqual({ isError: true, text: expect.stringMatching(/Unrecognized key: "extra"/) });
      expect(starts).toEqual([]);
    } finally {
      await close();
    }
  });
});

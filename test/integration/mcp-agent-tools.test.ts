/**
 * `durable-agents mcp` (issue #26): every agent as an MCP tool, driven by the official MCP SDK's
 * client and by the MCP inspector's CLI, with the server as a real process (`cli.ts mcp`) on the test
 * dev server and a real worker on the scripted model. Over stdio and over Streamable HTTP: tools are
 * listed, a call answers with the run's result after progress notifications, a call awaiting approval
 * is approved through `agent_approve`, a task-augmented call returns at once and its result is fetched
 * by a new client process after the first one exited, and sessions go on through `agent_send`. Over
 * HTTP, a token is required beyond loopback (and with --require-token), and refused when wrong.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AgentClient } from '../../client/agent-client';
import { loadTemporalConfig } from '../../src/config';
import { byTurn, lastOf, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { expectOneLineError, runCli, runCommand, type CliOutcome } from '../support/cli';
import { eventually } from '../support/eventually';
import { startTestWorker, type TestWorker } from '../support/harness';

const REPO = join(__dirname, '..', '..');
const execFileAsync = promisify(execFile);
const TOKEN = 'a'.repeat(24) + '-mcp-test-token-0123456789';

let model: ScriptedModel;
let worker: TestWorker;
let agents: AgentClient;

/**
 * `order…` looks the order up, then answers; `refund…` asks for a refund (which awaits approval),
 * then answers; `slow…` answers after 3 s; anything else is echoed.
 */
beforeAll(async () => {
  model = await startScriptedModel((request, index) => {
    const first = request.messages.find((message) => message.role === 'user')?.content ?? '';
    if (first.startsWith('order')) {
      return byTurn([
        reply.tools([{ name: 'lookup_order', args: { orderId: '1042' } }]),
        reply.text('Order 1042 has shipped.'),
      ])(request, index);
    }
    if (first.startsWith('refund')) {
      return byTurn([
        reply.tools([{ name: 'issue_refund', args: { orderId: '1042', amountUsd: 129, reason: 'delayed' } }]),
        reply.text('Refund handled.'),
      ])(request, index);
    }
    if (first.startsWith('slow')) return { kind: 'message', content: 'slow answer', delayMs: 3_000 };
    return reply.text(`echo ${lastOf(request, 'user')?.content}`);
  });
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
  agents = await AgentClient.connect(
    loadTemporalConfig({ TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS, TASK_QUEUE: worker.config.TASK_QUEUE }),
  );
});
afterAll(async () => {
  await agents?.close();
  await worker?.stop();
  await model?.close();
});

/** The env `durable-agents mcp` and the client processes run with. */
const mcpEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH!,
  HOME: process.env.HOME!,
  TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS,
  TASK_QUEUE: worker.config.TASK_QUEUE,
  AGENT_MODULES: 'helpdesk',
  ...extra,
});

/** A client of the official SDK, with what its transport reported as errors (a stray line on stdout is one). */
async function connectClient(transport: Transport): Promise<{ client: Client; errors: Error[] }> {
  const errors: Error[] = [];
  const client = new Client({ name: 'jest', version: '1.0.0' });
  client.onerror = (error) => errors.push(error);
  await client.connect(transport);
  return { client, errors };
}

function stdioTransport(env = mcpEnv()): StdioClientTransport {
  return new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', 'cli.ts', 'mcp'],
    cwd: REPO,
    env,
    stderr: 'pipe',
  });
}

/** What the stdio server wrote to stderr so far, as the transport's client reads it. */
function stderrOf(transport: StdioClientTransport): () => string {
  let stderr = '';
  transport.stderr!.on('data', (chunk) => (stderr += chunk));
  return () => stderr;
}

/**
 * A plug-in module that, as it loads, writes with every console method that writes to stdout in Node
 * (each with its own marker), and defines the agent `noisy`.
 */
const NOISY_MODULE = `
console.log('log-marker');
console.info('info-marker');
console.debug('debug-marker');
console.dir({ marker: 'dir-marker' });
console.dirxml('dirxml-marker');
console.table([{ marker: 'table-marker' }]);
console.count('count-marker');
console.group('group-marker');
console.groupEnd();
console.time('time-marker');
console.timeLog('time-marker');
console.timeEnd('time-marker');
export default ({ defineAgent }) => [defineAgent({ name: 'noisy', instructions: 'You talk a lot.', tools: [] })];
`;
const NOISY_MARKERS = ['log', 'info', 'debug', 'dir', 'dirxml', 'table', 'count', 'group', 'time'].map(
  (method) => `${method}-marker`,
);

/** `durable-agents mcp --http 0 ...` as a process; resolves with its URL once it listens. */
async function startHttpServer(args: string[] = [], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli.ts', 'mcp', '--http', '0', ...args], {
    cwd: REPO,
    env: mcpEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`mcp exited: ${stderr}`);
      return /on (http:\/\/\S+)/.exec(stderr)?.[1];
    },
    'the MCP server to listen',
    30_000,
  );
  return { child, url, output: () => ({ stdout, stderr }) };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Calls `name` and keeps the progress messages the server sent on the way. */
async function callWithProgress(client: Client, name: string, args: Record<string, unknown>) {
  const progress: string[] = [];
  const result = (await client.callTool({ name, arguments: args }, undefined, {
    onprogress: ({ message }) => progress.push(message ?? ''),
    timeout: 60_000,
  })) as CallToolResult;
  return { result, progress };
}

const textOf = (result: CallToolResult) =>
  result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');

/**
 * The checks both transports must pass: tools, a call with progress, and an approval through
 * agent_approve, recorded as decided by `decidedBy`.
 */
async function expectAgentTools(client: Client, decidedBy: string): Promise<void> {
  const { tools } = await client.listTools();
  expect(tools.map((tool) => tool.name).sort()).toEqual(['agent_approve', 'agent_send', 'agent_status', 'helpdesk']);
  const helpdesk = tools.find((tool) => tool.name === 'helpdesk')!;
  expect(helpdesk.execution?.taskSupport).toBe('optional');
  expect(helpdesk.inputSchema.required).toEqual(['message']);
  expect(helpdesk.description).toMatch(/Starts a durable run of agent "helpdesk"/);

  const { result, progress } = await callWithProgress(client, 'helpdesk', { message: 'order 1042, where is it?' });
  expect(progress[0]).toMatch(/^started run \S+$/);
  expect(textOf(result)).toBe('Order 1042 has shipped.');
  expect(result.isError).toBeFalsy();
  expect(result.structuredContent).toMatchObject({ status: 'completed', steps: 2 });
  expect(progress.some((line) => line.startsWith('calling lookup_order {"orderId":"1042"}'))).toBe(true);
  expect(progress.some((line) => line.startsWith('answer: Order 1042 has shipped.'))).toBe(true);
  const runId = (result.structuredContent as { runId: string }).runId;
  expect((await agents.result(runId)).output).toBe('Order 1042 has shipped.');

  // A refund awaits approval: the call waits while agent_status shows the call and agent_approve decides it.
  // The first progress names the run, so that the client can follow it while the call waits.
  const refundProgress: string[] = [];
  const refund = client.callTool({ name: 'helpdesk', arguments: { message: 'refund order 1042 please' } }, undefined, {
    onprogress: ({ message }) => refundProgress.push(message ?? ''),
    timeout: 60_000,
  }) as Promise<CallToolResult>;
  const pending = await eventually(
    async () => /^started run (\S+)$/.exec(refundProgress[0] ?? '')?.[1],
    'the refund run to start',
  );
  await eventually(
    async () => refundProgress.some((line) => line.startsWith('call 1.1 (issue_refund) awaits approval')),
    'progress to tell that the refund awaits approval',
  );
  const status = (await client.callTool({ name: 'agent_status', arguments: { runId: pending } })) as CallToolResult;
  expect(textOf(status)).toContain('call 1.1 (issue_refund) awaits approval');
  const approved = (await client.callTool({
    name: 'agent_approve',
    arguments: { runId: pending, callId: '1.1', approve: true, note: 'ok over MCP' },
  })) as CallToolResult;
  expect(approved.isError).toBeFalsy();
  const refunded = await refund;
  expect(textOf(refunded)).toBe('Refund handled.');
  // The answer waits for the progress to catch up: what the approved call returned is told before it.
  expect(refundProgress).toContainEqual(expect.stringMatching(/^tool result: A person approved this call/));
  const { approvals } = await agents.report(pending);
  expect(approvals).toEqual([expect.objectContaining({ approved: true, note: 'ok over MCP', decidedBy })]);
}

const INSPECTOR = join(REPO, 'node_modules/@modelcontextprotocol/inspector-cli/build');

/**
 * The MCP inspector's CLI (`mcp-inspector-cli --cli`'s own program) against `url`. It finds its
 * package.json relative to the current folder (inspector-cli 1.0.3), so it runs in its own folder.
 */
async function inspector(url: string, args: string[]): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [join(INSPECTOR, 'index.js'), url, ...args], {
      cwd: INSPECTOR,
      env: { PATH: process.env.PATH! },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    return error as CliOutcome;
  }
}

/** `test/support/mcp-task-client.ts` in a process of its own, with `env` (MCP_URL: over HTTP). */
const taskClient = (env: Record<string, string>, args: string[]) =>
  runCommand(process.execPath, ['--import', 'tsx', 'test/support/mcp-task-client.ts', ...args], mcpEnv(env), 60_000);

/** Starts a slow run as a task from a client process that then exits; returns the task's id, the run's. */
async function startTask(env: Record<string, string>): Promise<string> {
  const started = await taskClient(env, ['start', 'helpdesk', 'slow answer please']);
  expect(started).toMatchObject({ code: 0 });
  const created = JSON.parse(started.stdout) as { type: string; task: { taskId: string; status: string } };
  expect(created).toMatchObject({ type: 'taskCreated', task: { status: 'working' } });
  // The task is the run: its id is the run's, and the run goes on with no client connected.
  expect(await agents.isClosed(created.task.taskId)).toBe(false);
  return created.task.taskId;
}

/** Fetches the task's result from a new client process: the run's answer. */
async function expectTaskResult(env: Record<string, string>, taskId: string): Promise<void> {
  const fetched = await taskClient(env, ['fetch', taskId]);
  expect(fetched).toMatchObject({ code: 0 });
  const { first, result, after } = JSON.parse(fetched.stdout) as {
    first: string;
    result: CallToolResult;
    after: string;
  };
  expect(['working', 'completed']).toContain(first);
  expect(textOf(result)).toBe('slow answer');
  expect(result.structuredContent).toMatchObject({ runId: taskId, status: 'completed' });
  expect(after).toBe('completed');
}

describe('durable-agents mcp over stdio', () => {
  it('lists the agents, answers a call with progress, and takes an approval through agent_approve', async () => {
    const transport = stdioTransport();
    const stderr = stderrOf(transport);
    const { client, errors } = await connectClient(transport);
    try {
      await expectAgentTools(client, 'mcp:jest');
    } finally {
      await client.close();
    }
    // Nothing but protocol on stdout (a stray line would be a parse error), notices on stderr.
    expect(errors).toEqual([]);
    expect(stderr()).toContain('mcp: serving helpdesk over stdio');
  });

  it('keeps stdout for the protocol when an agent module writes with any console method as it loads', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'mcp-noisy-'));
    try {
      const module = join(folder, 'noisy-agent.mjs');
      writeFileSync(module, NOISY_MODULE);
      const transport = stdioTransport(mcpEnv({ AGENT_MODULES: module }));
      const stderr = stderrOf(transport);
      const { client, errors } = await connectClient(transport);
      try {
        expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('noisy');
      } finally {
        await client.close();
      }
      // Every line of stdout parsed as JSON-RPC (a stray one is a transport error); the module's went to stderr.
      expect(errors).toEqual([]);
      for (const marker of NOISY_MARKERS) expect(stderr()).toContain(marker);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it('answers a task-augmented call at once; a new client process (and server) fetches its result later', async () => {
    // Over stdio each client process runs its own server: the second one is a new server too.
    await expectTaskResult({}, await startTask({}));
  });

  it('cancels the run of a task the client cancels (tasks/cancel), and says cancelled at once', async () => {
    const { client } = await connectClient(stdioTransport());
    try {
      const stream = client.experimental.tasks.callToolStream(
        { name: 'helpdesk', arguments: { message: 'slow, then cancelled' } },
        undefined,
        { task: {} },
      );
      const { value } = await stream.next();
      const { taskId } = (value as { task: { taskId: string } }).task;
      // MCP wants the task cancelled in the answer to tasks/cancel, while the slow run is still stopping.
      expect((await client.experimental.tasks.cancelTask(taskId)).status).toBe('cancelled');
      expect((await client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
      await expect(agents.result(taskId)).rejects.toThrow(/cancelled/);
      expect((await client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
      expect((await agents.report(taskId)).status).toBe('cancelled');
    } finally {
      await client.close();
    }
  });

  it('starts a session and continues it through agent_send; bad input is a tool error, not a stack', async () => {
    const { client } = await connectClient(stdioTransport());
    try {
      const opened = (await client.callTool({
        name: 'agent_send',
        arguments: { agent: 'helpdesk', message: 'hello' },
      })) as CallToolResult;
      expect(textOf(opened)).toBe('echo hello');
      const { runId } = opened.structuredContent as { runId: string };
      const next = await callWithProgress(client, 'agent_send', { runId, message: 'and again' });
      expect(textOf(next.result)).toBe('echo and again');
      await agents.end(runId);

      const empty = (await client.callTool({ name: 'helpdesk', arguments: { message: '   ' } })) as CallToolResult;
      expect(empty.isError).toBe(true);
      expect(textOf(empty)).toMatch(/message/);
      const both = (await client.callTool({
        name: 'agent_send',
        arguments: { agent: 'helpdesk', runId, message: 'x' },
      })) as CallToolResult;
      expect(textOf(both)).toMatch(/exactly one of runId .* and agent/);
      const unknown = (await client.callTool({
        name: 'agent_status',
        arguments: { runId: 'no-such-run' },
      })) as CallToolResult;
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toMatch(/no-such-run/);
      expect(textOf(unknown)).not.toMatch(/\n\s+at /);
    } finally {
      await client.close();
    }
  });
});

describe('durable-agents mcp --http', () => {
  it('serves the same tools over Streamable HTTP, and tasks that outlive their client', async () => {
    const server = await startHttpServer();
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
      const { client, errors } = await connectClient(new StreamableHTTPClientTransport(new URL(server.url)));
      try {
        // Stateless HTTP: no connection on which the client introduced itself.
        await expectAgentTools(client, 'mcp');
      } finally {
        await client.close();
      }
      expect(errors).toEqual([]);
      await expectTaskResult({ MCP_URL: server.url }, await startTask({ MCP_URL: server.url }));

      // The MCP inspector's own CLI lists the tools and calls one.
      const listed = await inspector(server.url, ['--method', 'tools/list']);
      expect(listed).toMatchObject({ code: 0 });
      expect((JSON.parse(listed.stdout) as { tools: { name: string }[] }).tools.map((tool) => tool.name)).toContain(
        'helpdesk',
      );
      const called = await inspector(server.url, [
        '--method',
        'tools/call',
        '--tool-name',
        'helpdesk',
        '--tool-arg',
        'message=hi inspector',
      ]);
      expect(called.code).toBe(0);
      expect(JSON.parse(called.stdout)).toMatchObject({ content: [{ type: 'text', text: 'echo hi inspector' }] });
    } finally {
      await stop(server.child);
    }
    expect(server.output().stdout).toBe('');
  });

  it('needs a token beyond loopback or with --require-token, refuses a wrong one and takes the right one', async () => {
    expectOneLineError(
      await runCli(['mcp', '--http', '0', '--host', '0.0.0.0'], mcpEnv()),
      1,
      /^error: listening on 0\.0\.0\.0, beyond loopback, needs a bearer token: set MCP_SERVER_TOKEN/,
    );
    expectOneLineError(
      await runCli(['mcp', '--http', '0', '--require-token'], mcpEnv()),
      1,
      /^error: --require-token needs a bearer token: set MCP_SERVER_TOKEN/,
    );

    const server = await startHttpServer(['--require-token'], { MCP_SERVER_TOKEN: TOKEN });
    let taskId: string;
    try {
      expect(server.output().stderr).toContain('(bearer token required)');
      expect(server.output().stderr).not.toContain(TOKEN);
      const withToken = (token?: string) =>
        new StreamableHTTPClientTransport(new URL(server.url), {
          ...(token && { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
        });
      await expect(connectClient(withToken())).rejects.toThrow(/401|bearer token/i);
      await expect(connectClient(withToken(`${TOKEN}x`))).rejects.toThrow(/401|bearer token/i);
      const { client } = await connectClient(withToken(TOKEN));
      expect((await client.listTools()).tools.map((tool) => tool.name)).toContain('helpdesk');
      await client.close();
      taskId = await startTask({ MCP_URL: server.url, MCP_TOKEN: TOKEN });
    } finally {
      await stop(server.child);
    }
    // A task outlives the server that created it: a server started anew answers for it.
    const restarted = await startHttpServer(['--require-token'], { MCP_SERVER_TOKEN: TOKEN });
    try {
      await expectTaskResult({ MCP_URL: restarted.url, MCP_TOKEN: TOKEN }, taskId);
    } finally {
      await stop(restarted.child);
    }
  });
});

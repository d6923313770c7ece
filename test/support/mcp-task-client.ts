/**
 * An MCP client in a process of its own, for the test that a task outlives the client that started
 * it: `start <agent> <message>` makes a task-augmented call and prints the task the server created,
 * then exits at once; `fetch <taskId>` (a new process) waits for the task and prints its result. It
 * reaches the server over stdio (`durable-agents mcp` as its child, env from this process) or over
 * HTTP when MCP_URL is set (with MCP_TOKEN as its bearer token).
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';

const REPO = join(__dirname, '..', '..');

function transport() {
  const url = process.env.MCP_URL;
  if (url) {
    const token = process.env.MCP_TOKEN;
    return new StreamableHTTPClientTransport(new URL(url), {
      ...(token && { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    });
  }
  return new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', join(REPO, 'cli.ts'), 'mcp'],
    cwd: REPO,
    env: process.env as Record<string, string>,
    stderr: 'inherit',
  });
}

async function main(): Promise<void> {
  const [command, ...args] = process.argv.slice(2);
  const client = new Client({ name: 'mcp-task-client', version: '1.0.0' });
  await client.connect(transport());
  if (command === 'start') {
    const [name, message] = args;
    const stream = client.experimental.tasks.callToolStream({ name, arguments: { message } }, CallToolResultSchema, {
      task: { ttl: 600_000 },
    });
    // The first message is the task: print it and leave, with the run still going.
    const { value } = await stream.next();
    console.log(JSON.stringify(value));
  } else if (command === 'fetch') {
    const [taskId] = args;
    const task = await client.experimental.tasks.getTask(taskId);
    const result = await client.experimental.tasks.getTaskResult(taskId, CallToolResultSchema);
    const after = await client.experimental.tasks.getTask(taskId);
    console.log(JSON.stringify({ first: task.status, result, after: after.status }));
  } else {
    throw new Error(`unknown command ${command}`);
  }
  await client.close();
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);

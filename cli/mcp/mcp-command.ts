/**
 * `durable-agents mcp`: serves every agent this environment registers (AGENT_MODULES, read as a worker
 * reads it) as an MCP tool, over stdio by default or Streamable HTTP with `--http PORT`. Over stdio,
 * stdout carries the protocol and nothing else: every notice goes to stderr, and so does anything a
 * loaded module logs. The server is cli/mcp/agent-tools-server.ts.
 */
import { Console } from 'node:console';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';
import { loadMcpServerConfig, loadWorkerConfig } from '../../src/config';
import { ipAddress, portNumber } from '../arg-parsers';
import { stopRequested } from '../codec-server-command';
import type { CommandContext } from '../command-context';
import { warn } from '../output';
import { commandEnv, type LoadWorkerSide } from '../workers/worker-side';
import { agentToolsOf, createAgentToolsServer } from './agent-tools-server';
import { listenerToken, listenMcpHttp } from './mcp-http-listener';

interface McpOptions {
  http?: number;
  host: string;
  requireToken: boolean;
}

const HELP_AFTER = `
Examples:
  $ AGENT_MODULES=helpdesk durable-agents mcp                 # stdio, for Claude Desktop or an IDE
  $ durable-agents mcp --http 3333                            # http://127.0.0.1:3333/mcp
  $ MCP_SERVER_TOKEN=$(openssl rand -hex 32) durable-agents mcp --http 3333 --host 0.0.0.0

Tools: one per agent (input { message }; task-augmented calls return a task whose id is the run's id),
and agent_status, agent_approve, agent_send.

Environment:
  AGENT_MODULES     the agents to serve, as a worker reads it (durable-agents agents lists them)
  MCP_SERVER_TOKEN  the bearer token HTTP clients must send: required beyond loopback and with --require-token
  TEMPORAL_*, TASK_QUEUE, PAYLOAD_KEYS as for every command (durable-agents --help)`;

/**
 * Everything a loaded module (or a library) writes through the console goes to stderr: stdout is the
 * protocol's. Not only log/info/debug write to stdout: dir, dirxml, table, count, group, time and its
 * kin do too, so every method is taken from a console writing to stderr alone (a Node Console's
 * methods are its own properties, bound to it, so its counters, timers and indentation come along).
 */
function keepStdoutForProtocol(): void {
  Object.assign(console, new Console({ stdout: process.stderr, stderr: process.stderr }));
}

/** Resolves once the client has closed stdin (it went away) or the process is asked to stop. */
function stdioClosed(): Promise<void> {
  return Promise.race([
    stopRequested(),
    new Promise<void>((resolve) => {
      process.stdin.once('end', resolve);
      process.stdin.once('close', resolve);
    }),
  ]);
}

export function registerMcpCommand(program: Command, context: CommandContext, loadWorkerSide: LoadWorkerSide): void {
  program
    .command('mcp')
    .description(
      'serve every agent (AGENT_MODULES) as an MCP tool over stdio, or Streamable HTTP with --http: a call ' +
        'starts a durable run; agent_status, agent_approve and agent_send follow and steer runs',
    )
    .option(
      '--http <port>',
      'serve Streamable HTTP on this port (0 for a free one) at /mcp instead of stdio',
      portNumber,
    )
    .option(
      '--host <address>',
      'the IP address --http listens on; beyond loopback MCP_SERVER_TOKEN is required',
      ipAddress,
      '127.0.0.1',
    )
    .option('--require-token', 'require MCP_SERVER_TOKEN on loopback too', false)
    .addHelpText('after', HELP_AFTER)
    .action(async (options: McpOptions, command: Command) => {
      keepStdoutForProtocol();
      const token =
        options.http === undefined
          ? undefined
          : listenerToken(options.host, loadMcpServerConfig().MCP_SERVER_TOKEN, options.requireToken);
      const registry = await (await loadWorkerSide()).buildRegistry(loadWorkerConfig(commandEnv(command)));
      const tools = agentToolsOf(registry);
      const agents = await context.connect();
      const serverFor = (closed?: AbortSignal) =>
        createAgentToolsServer(agents, tools, program.version() ?? '0.0.0', closed);
      const names = tools.map((tool) => tool.name).join(', ');
      if (options.http === undefined) {
        const server = serverFor();
        await server.connect(new StdioServerTransport());
        warn(`mcp: serving ${names} over stdio`);
        await stdioClosed();
        await server.close();
        return;
      }
      const listener = await listenMcpHttp({ host: options.host, port: options.http, token, serverFor, onError: warn });
      // The token stays in the environment: only whether one is required is said.
      warn(`mcp: serving ${names} on ${listener.url}${token ? ' (bearer token required)' : ''}`);
      await stopRequested();
      await listener.close();
    });
}

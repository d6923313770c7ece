/**
 * MCP servers as tool sources (issue #26), without a server: definitions and their checks, names and
 * approval rules for the model, the bounds of a listing, what the model reads of a result, the typed
 * failures, and the worker's values (`${VAR}`, `fromEnv`) that never reach a run.
 */
import { spawn } from 'node:child_process';
import { ErrorCode, McpError, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { boundedListing, McpSettingMissing, workerValue } from '../../activities/mcp-connections';
import { loggedMcpError, mcpFailure, mcpResultText } from '../../activities/mcp-calls';
import { defineAgent } from '../../src/agent';
import { buildContextWindows } from '../../src/context-windows';
import { Bounds, DEFAULT_TOOL_RETRY } from '../../src/defaults';
import { DefinitionError, ErrorType } from '../../src/errors';
import { defineMcpServer, fromEnv, type McpServerSpec } from '../../src/mcp-server';
import { matchesToolPattern, mcpModelToolName, mcpToolSpecs } from '../../src/mcp-tool-specs';
import { DEFAULT_PRICES } from '../../src/pricing';
import { AgentRegistry } from '../../src/registry';
import { resolveSpec } from '../../src/spec';
import { thrown } from '../support/thrown';

const definitionError = (run: () => unknown) => thrown(DefinitionError, run).message;
const stdio = { name: 'fs', command: 'npx', args: ['-y', 'server'] };

describe('defineMcpServer', () => {
  it('takes a stdio server or an HTTP server, with a policy', () => {
    expect(defineMcpServer({ ...stdio, env: { TOKEN: fromEnv('GH_TOKEN') }, cwd: '/srv' })).toMatchObject({
      kind: 'mcpServer',
      command: 'npx',
      env: { TOKEN: { fromEnv: 'GH_TOKEN' } },
    });
    expect(
      defineMcpServer({
        name: 'search',
        url: 'https://mcp.example.com/mcp',
        headers: { Authorization: 'Bearer ${TOKEN}' },
        requiresApproval: ['write_*'],
        timeout: '2m',
        retry: { maximumAttempts: 5 },
        taskQueue: 'private',
      }),
    ).toMatchObject({ kind: 'mcpServer', url: 'https://mcp.example.com/mcp', requiresApproval: ['write_*'] });
    expect(defineMcpServer({ name: 'later', url: '${SEARCH_URL}' })).toMatchObject({ url: '${SEARCH_URL}' });
  });

  it('refuses what cannot work, naming it', () => {
    expect(definitionError(() => defineMcpServer({ ...stdio, url: 'https://x' } as never))).toMatch(
      /either command \(a stdio server\) or url/,
    );
    expect(definitionError(() => defineMcpServer({ name: 'x' } as never))).toMatch(/either command/);
    expect(definitionError(() => defineMcpServer({ ...stdio, requireApproval: true } as never))).toMatch(
      /requireApproval.*requiresApproval/,
    );
    expect(definitionError(() => defineMcpServer({ ...stdio, name: 'has_underscore' }))).toMatch(/name: must match/);
    expect(definitionError(() => defineMcpServer({ ...stdio, name: 'x'.repeat(33) }))).toMatch(/name: must match/);
    expect(definitionError(() => defineMcpServer({ ...stdio, timeout: 'soon' as never }))).toMatch(
      /timeout: must be a positive duration/,
    );
    expect(definitionError(() => defineMcpServer({ ...stdio, retry: { maxAttempts: 3 } as never }))).toMatch(/retry/);
    expect(definitionError(() => defineMcpServer({ ...stdio, requiresApproval: [] }))).toMatch(/requiresApproval/);
    expect(definitionError(() => defineMcpServer({ name: 'web', url: 'ftp://x' }))).toMatch(/url: must be an http/);
    expect(definitionError(() => defineMcpServer({ ...stdio, env: { TOKEN: fromEnv('not a name') } }))).toMatch(
      /env.TOKEN/,
    );
  });
});

describe('agents with MCP servers', () => {
  const files = defineMcpServer(stdio);
  const agent = (mcpServers: unknown[]) =>
    defineAgent({ name: 'clerk', instructions: 'Tidy.', tools: [], mcpServers: mcpServers as never });

  it('take definitions or names, each once', () => {
    expect(agent([files, 'search']).mcpServers).toEqual([files, 'search']);
    expect(definitionError(() => agent([files, 'fs']))).toMatch(/lists server "fs" twice/);
    expect(definitionError(() => agent([{ name: 'fs' }]))).toMatch(/neither a defineMcpServer/);
  });

  it('find named servers among the definitions a worker has, or stop it at start-up', () => {
    const search = defineMcpServer({ name: 'search', url: 'https://mcp.example.com/mcp' });
    const registry = new AgentRegistry().add([agent([files, 'search'])], 'clerk.mjs');
    expect(definitionError(() => registry.checkMcpServers())).toBe(
      'agent "clerk" uses MCP server "search", which no module defines (known: fs)',
    );
    registry.add([search], 'search.mjs').checkMcpServers();
    expect(registry.mcpServersOf(registry.get('clerk')!)).toEqual([files, search]);
    expect(
      definitionError(() => registry.add([defineMcpServer({ name: 'search', url: 'https://other/mcp' })], 'b.mjs')),
    ).toMatch(/MCP server "search" is already defined by search.mjs/);
  });

  it('record the policy of their servers in the spec, never how to reach them', () => {
    const secret = defineMcpServer({
      name: 'gh',
      command: 'gh-mcp',
      env: { TOKEN: 'literal-secret' },
      requiresApproval: true,
      timeout: '5s',
    });
    const spec = resolveSpec(
      agent([secret]),
      {
        defaultModel: 'm',
        modelCall: { requestTimeoutMs: 1_000, heartbeatTimeoutMs: 1_000, maxAttempts: 1 },
        transcriptMaxBytes: 1_000,
        prices: DEFAULT_PRICES,
        contextWindows: buildContextWindows(undefined),
        contextCompactAt: 0.75,
        continueAsNewAtBytes: 1_000_000,
        historyLimitBytes: 2_000_000,
        toolTaskQueue: 'agents-tools',
      },
      [secret],
    );
    expect(spec.mcpServers).toEqual([
      {
        name: 'gh',
        requiresApproval: true,
        startToCloseTimeoutMs: 5_000,
        heartbeatTimeoutMs: 10_000,
        retry: DEFAULT_TOOL_RETRY,
        taskQueue: 'agents-tools',
      },
    ]);
    expect(JSON.stringify(spec)).not.toMatch(/literal-secret|gh-mcp/);
  });
});

describe('MCP tools as the model sees them', () => {
  const server: McpServerSpec = {
    name: 'fs',
    requiresApproval: ['write_*', 'move_file'],
    startToCloseTimeoutMs: 60_000,
    heartbeatTimeoutMs: 10_000,
    retry: { maximumAttempts: 3 },
  };
  const listed = (name: string) => ({ name, description: name, inputSchema: { type: 'object' } });

  it('are named <server>_<tool>, in the characters the model takes, at most 64 of them', () => {
    expect(mcpModelToolName('fs', 'read_file')).toBe('fs_read_file');
    expect(mcpModelToolName('everything', 'get-tiny-image')).toBe('everything_get-tiny-image');
    expect(mcpModelToolName('gh', 'repos.list/all')).toBe('gh_repos_list_all');
    expect(mcpModelToolName('gh', 'x'.repeat(100))).toHaveLength(64);
  });

  it('need approval as the server says, by name or glob', () => {
    expect(matchesToolPattern('write_file', 'write_*')).toBe(true);
    expect(matchesToolPattern('rewrite_file', 'write_*')).toBe(false);
    expect(matchesToolPattern('a.b', 'a?b')).toBe(true);
    expect(matchesToolPattern('axxb', 'a.b')).toBe(false);
    const specs = mcpToolSpecs(server, ['read_file', 'write_file', 'move_file'].map(listed));
    expect(specs.map(({ name, requiresApproval, mcp }) => ({ name, requiresApproval, mcp }))).toEqual([
      { name: 'fs_read_file', requiresApproval: false, mcp: { server: 'fs', tool: 'read_file' } },
      { name: 'fs_write_file', requiresApproval: true, mcp: { server: 'fs', tool: 'write_file' } },
      { name: 'fs_move_file', requiresApproval: true, mcp: { server: 'fs', tool: 'move_file' } },
    ]);
    expect(mcpToolSpecs({ ...server, requiresApproval: true }, [listed('x')])[0].requiresApproval).toBe(true);
  });

  it('come from a listing kept within bounds, saying what was left out', () => {
    const tool = (name: string, extra: Partial<Tool> = {}): Tool => ({
      name,
      inputSchema: { type: 'object', $schema: 'https://json-schema.org/draft/2020-12/schema' } as Tool['inputSchema'],
      ...extra,
    });
    const huge = { type: 'object' as const, properties: { x: { description: 'y'.repeat(Bounds.mcpToolSchemaBytes) } } };
    const listing = boundedListing([
      tool('small', { description: 'd'.repeat(10_000) }),
      tool('huge', { inputSchema: huge }),
      ...Array.from({ length: Bounds.mcpToolsPerServer + 1 }, (_, index) => tool(`t${index}`)),
    ]);
    expect(listing.tools[0]).toEqual({
      name: 'small',
      description: 'd'.repeat(Bounds.mcpToolDescriptionBytes),
      inputSchema: { type: 'object' },
    });
    expect(listing.tools).toHaveLength(Bounds.mcpToolsPerServer);
    expect(listing.leftOut).toEqual([
      { name: 'huge', reason: expect.stringMatching(/^its input schema has \d+ bytes, more than 16384$/) },
      { name: 't99', reason: 'the server lists more than 100 tools' },
      { name: 't100', reason: 'the server lists more than 100 tools' },
    ]);
    expect(boundedListing([tool('small')]).fingerprint).toBe(boundedListing([tool('small')]).fingerprint);
    expect(boundedListing([tool('small')]).fingerprint).not.toBe(boundedListing([tool('other')]).fingerprint);
  });
});

describe('an MCP result as the model reads it', () => {
  it('is its text; binary content described, never dropped; structured content when there is no content', () => {
    expect(
      mcpResultText({
        content: [
          { type: 'text', text: 'Here it is:' },
          { type: 'image', data: 'aGVsbG8=', mimeType: 'image/png' },
          { type: 'resource', resource: { uri: 'file:///a.txt', text: 'alpha' } },
          { type: 'resource', resource: { uri: 'file:///b.bin', blob: 'AAAA', mimeType: 'application/zip' } },
          { type: 'resource_link', uri: 'file:///c', name: 'c' },
        ],
      }),
    ).toBe(
      [
        'Here it is:',
        '[image image/png, 5 bytes, not shown: a tool result reaches the model as text]',
        '[resource file:///a.txt]\nalpha',
        '[resource file:///b.bin application/zip, 3 bytes, not shown: a tool result reaches the model as text]',
        '[resource link file:///c (c)]',
      ].join('\n'),
    );
    expect(mcpResultText({ content: [], structuredContent: { temperature: 21 } })).toBe('{"temperature":21}');
  });
});

describe('a failed MCP request', () => {
  const server = defineMcpServer({ name: 'fs', command: 'srv' });
  const web = defineMcpServer({ name: 'web', url: 'https://h/mcp?token=secret', exposeErrors: true });
  const failure = (error: unknown, definition = server) => mcpFailure(error, definition, 'tools/call x', 2_000);

  it("is typed, in words of our own; the server's only with exposeErrors", () => {
    expect(failure(new McpError(ErrorCode.RequestTimeout, 'Request timed out'))).toMatchObject({
      type: ErrorType.McpTimeout,
      message: 'MCP server "fs" did not answer tools/call x within 2 s',
      nonRetryable: false,
    });
    expect(failure(new McpError(ErrorCode.ConnectionClosed, 'Connection closed'))).toMatchObject({
      type: ErrorType.McpServerUnavailable,
      message: 'MCP server "fs" is unavailable (its process would not start, or exited)',
    });
    expect(failure(new McpError(ErrorCode.InvalidParams, 'no such tool'))).toMatchObject({
      type: ErrorType.McpProtocolError,
      message: `MCP server "fs" answered tools/call x with error ${ErrorCode.InvalidParams}`,
    });
    expect(failure(new TypeError('fetch failed: https://h/mcp?token=secret'), web)).toMatchObject({
      type: ErrorType.McpServerUnavailable,
      message: 'MCP server "web" is unavailable (its URL did not answer): fetch failed: https://h/mcp?token=secret',
    });
    expect(failure(new TypeError('fetch failed: https://h/mcp?token=secret'), server).message).not.toContain('secret');
    expect(failure(new McpSettingMissing('MCP server "fs" env.TOKEN reads GH_TOKEN, which is not set'))).toMatchObject({
      type: ErrorType.McpServerUnavailable,
      nonRetryable: true,
    });
  });
});

describe("a failed MCP request in the worker's log", () => {
  it("names the error, never the process's arguments or a URL's secrets", async () => {
    // A real spawn failure: Node's error carries the arguments, where a `fromEnv` secret may be.
    const spawned = spawn('/nonexistent/mcp-server-command', ['--token', 's3cr3t-arg']);
    const error = await new Promise<Error>((resolve) => spawned.once('error', resolve));
    expect(error).toHaveProperty('spawnargs');
    const logged = loggedMcpError(error);
    expect(logged).toEqual({
      name: 'Error',
      code: 'ENOENT',
      message: 'spawn /nonexistent/mcp-server-command ENOENT',
    });
    expect(JSON.stringify(logged)).not.toContain('s3cr3t');
    expect(loggedMcpError(new TypeError('fetch failed: https://user:pw@h/mcp?token=secret')).message).toBe(
      'fetch failed: https://h/mcp',
    );
    expect(loggedMcpError('gone')).toEqual({ message: 'gone' });
  });
});

describe("a server definition's values", () => {
  const env = { TOKEN: 't0k', HOST: 'h.example' };

  it("are filled in from the worker's environment, and a missing one is named, never a value", () => {
    expect(workerValue('https://${HOST}/mcp', env, 'url')).toBe('https://h.example/mcp');
    expect(workerValue(fromEnv('TOKEN'), env, 'headers.Authorization')).toBe('t0k');
    expect(workerValue('plain $HOST', env, 'args[0]')).toBe('plain $HOST');
    expect(thrown(McpSettingMissing, () => workerValue('${NOPE}', env, 'MCP server "x" url')).message).toBe(
      'MCP server "x" url reads NOPE, which is not set on this worker',
    );
  });
});

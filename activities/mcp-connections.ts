/**
 * A worker's connections to MCP servers, one per server definition: a stdio server is one process,
 * started on first use and again on the use after it exited; an HTTP server one session
 * (Streamable HTTP, else SSE), opened again when the server forgot it. Each keeps its last tool list
 * for `MCP_LIST_TTL_SECONDS`, or until the server says the list changed, so runs starting together
 * list once. Secrets (`${VAR}`, `fromEnv`) are read from the worker's environment here, at connect.
 */
import { createInterface } from 'node:readline';
import type { PassThrough } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SseError, SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ToolListChangedNotificationSchema, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { McpListedTool } from '../src/activity-contract';
import { Bounds, MCP_CONNECT_TIMEOUT_MS } from '../src/defaults';
import { hashText } from '../src/hash';
import type { EnvReference, McpServerDefinition } from '../src/mcp-server';
import { serializedBytes, truncateUtf8, utf8Bytes } from '../src/validation';

/** Pages of `tools/list` a listing reads at most: a server that pages on forever is cut there. */
const MAX_LIST_PAGES = 20;

/** A variable an MCP server's definition reads is not set on this worker: retrying here cannot help. */
export class McpSettingMissing extends Error {}

/** `value` with `${VAR}` references (or a `fromEnv` reference) filled in from `env`. */
export function workerValue(value: string | EnvReference, env: NodeJS.ProcessEnv, where: string): string {
  const read = (variable: string) => {
    const found = env[variable];
    if (found === undefined) throw new McpSettingMissing(`${where} reads ${variable}, which is not set on this worker`);
    return found;
  };
  if (typeof value !== 'string') return read(value.fromEnv);
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, variable: string) => read(variable));
}

function workerValues(
  values: Record<string, string | EnvReference> | undefined,
  env: NodeJS.ProcessEnv,
  where: string,
) {
  return Object.fromEntries(
    Object.entries(values ?? {}).map(([key, value]) => [key, workerValue(value, env, `${where}.${key}`)]),
  );
}

/** A server's tool list as runs get it: bounded, with the tools left out and why, and its fingerprint. */
export interface McpListing {
  fingerprint: string;
  tools: McpListedTool[];
  leftOut: { name: string; reason: string }[];
}

/** The tools a server listed, within the bounds a run's payloads and the model's request can carry. */
export function boundedListing(listed: Tool[]): McpListing {
  const tools: McpListedTool[] = [];
  const leftOut: McpListing['leftOut'] = [];
  for (const tool of listed) {
    const name = utf8Bytes(tool.name) > 128 ? `${truncateUtf8(tool.name, 128)}...` : tool.name;
    const schemaBytes = serializedBytes(tool.inputSchema);
    if (name !== tool.name) leftOut.push({ name, reason: 'its name is longer than 128 bytes' });
    else if (schemaBytes > Bounds.mcpToolSchemaBytes) {
      leftOut.push({
        name,
        reason: `its input schema has ${schemaBytes} bytes, more than ${Bounds.mcpToolSchemaBytes}`,
      });
    } else if (tools.length >= Bounds.mcpToolsPerServer) {
      leftOut.push({ name, reason: `the server lists more than ${Bounds.mcpToolsPerServer} tools` });
    } else {
      const description = tool.description ?? tool.title ?? '';
      // The dialect says nothing to a model, and some providers refuse it (TypeScript tools' schemas drop it too).
      const { $schema: _dialect, ...inputSchema } = tool.inputSchema;
      tools.push({
        name: tool.name,
        description: truncateUtf8(description, Bounds.mcpToolDescriptionBytes),
        inputSchema,
      });
    }
  }
  return { fingerprint: hashText(JSON.stringify(tools)), tools, leftOut };
}

/** Whether an HTTP server refused a Streamable HTTP request in a way that means "speak SSE to me". */
function wantsSse(error: unknown): boolean {
  return error instanceof StreamableHTTPError && error.code !== undefined && [400, 404, 405].includes(error.code);
}

/**
 * Whether the server no longer knows the session: Streamable HTTP asks servers to answer 404, and
 * some (the reference servers) answer 400 to a session id they do not have. Open a new one.
 */
function sessionForgotten(error: unknown): boolean {
  return error instanceof StreamableHTTPError && (error.code === 404 || error.code === 400);
}

/** One server definition's connection and its cached tool list. */
class McpServerConnection {
  private client?: Promise<Client>;
  /** The client `client` resolved to, once connected. */
  private current?: Client;
  private listing?: { promise: Promise<McpListing>; atMs: number };

  constructor(
    readonly definition: McpServerDefinition,
    private readonly listTtlMs: number,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /** The connected client, connecting (starting the process, opening the session) if there is none. */
  connected(): Promise<Client> {
    if (!this.client) {
      const connecting = this.connect();
      this.client = connecting;
      connecting.then(
        (client) => {
          if (this.client === connecting) this.current = client;
        },
        // A failed start is tried again by the next use.
        () => {
          if (this.client === connecting) this.client = undefined;
        },
      );
    }
    return this.client;
  }

  private newClient(): Client {
    const client = new Client({ name: 'durable-agents', version: '1' });
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      this.listing = undefined;
    });
    return client;
  }

  private async connect(): Promise<Client> {
    const { definition, env } = this;
    const where = `MCP server "${definition.name}"`;
    const options = { timeout: MCP_CONNECT_TIMEOUT_MS };
    let client = this.newClient();
    if ('command' in definition) {
      const transport = new StdioClientTransport({
        command: workerValue(definition.command, env, `${where} command`),
        args: (definition.args ?? []).map((arg, index) => workerValue(arg, env, `${where} args[${index}]`)),
        env: workerValues(definition.env, env, `${where} env`),
        ...(definition.cwd !== undefined && { cwd: workerValue(definition.cwd, env, `${where} cwd`) }),
        stderr: 'pipe',
      });
      // The server's own log goes to the worker's stderr, each line saying whose it is.
      createInterface({ input: transport.stderr as PassThrough }).on('line', (line) =>
        process.stderr.write(`mcp ${definition.name}: ${line}\n`),
      );
      await this.open(client, transport, options);
      return client;
    }
    const url = new URL(workerValue(definition.url, env, `${where} url`));
    const requestInit = { headers: workerValues(definition.headers, env, `${where} headers`) };
    try {
      await this.open(client, new StreamableHTTPClientTransport(url, { requestInit }), options);
    } catch (error) {
      if (!wantsSse(error)) throw error;
      client = this.newClient();
      await this.open(client, new SSEClientTransport(url, { requestInit }), options);
    }
    return client;
  }

  /** Connects `client` over `transport`; when the connection closes (the process exited), the next use reconnects. */
  private async open(client: Client, transport: Transport, options: { timeout: number }): Promise<void> {
    client.onclose = () => this.forget(client);
    await client.connect(transport, options);
  }

  /** Drops `client` (if it is still the current one) and the list it gave: the next use starts afresh. */
  private forget(client: Client): void {
    if (this.current !== client) return;
    this.client = undefined;
    this.current = undefined;
    this.listing = undefined;
  }

  /** The server's tools: the cached list while it is fresh, else one `tools/list` that every waiting run shares. */
  list(): Promise<McpListing> {
    const cached = this.listing;
    if (cached && Date.now() - cached.atMs < this.listTtlMs) return cached.promise;
    const promise = this.fetchList();
    const entry = { promise, atMs: Date.now() };
    this.listing = entry;
    promise.catch(() => {
      if (this.listing === entry) this.listing = undefined;
    });
    return promise;
  }

  private fetchList(): Promise<McpListing> {
    return this.withClient((client) => this.listPages(client));
  }

  private async listPages(client: Client): Promise<McpListing> {
    const tools: Tool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const result = await client.listTools(cursor === undefined ? {} : { cursor }, {
        timeout: MCP_CONNECT_TIMEOUT_MS,
      });
      tools.push(...result.tools);
      cursor = result.nextCursor;
      if (cursor === undefined) break;
    }
    return boundedListing(tools);
  }

  /**
   * Runs `request` on the connection. A session the server forgot is opened again and the request
   * sent once more (the server refused it, so it never ran); after any other HTTP failure the next
   * use opens a new session, so a server that restarted is reached again by the retry.
   */
  private async withClient<T>(request: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.connected();
    try {
      return await request(client);
    } catch (error) {
      // Only the connection that failed is dropped: a request that failed with it may find a new one already.
      const http = error instanceof StreamableHTTPError || error instanceof SseError;
      if (http && this.current === client) await this.close();
      if (!sessionForgotten(error)) throw error;
      return request(await this.connected());
    }
  }

  /** Calls tool `name` once; aborting `signal` cancels the request at the server (`notifications/cancelled`). */
  call(
    name: string,
    args: Record<string, unknown>,
    meta: Record<string, unknown>,
    options: {
      signal: AbortSignal;
      timeoutMs: number;
      onprogress?: (progress: { progress: number; total?: number }) => void;
    },
  ): Promise<CallToolResult> {
    return this.withClient(
      async (client) =>
        (await client.callTool({ name, arguments: args, _meta: meta }, undefined, {
          signal: options.signal,
          timeout: options.timeoutMs,
          onprogress: options.onprogress,
        })) as CallToolResult,
    );
  }

  /** Closes the connection: a stdio server's process is asked to end, then killed. */
  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.current = undefined;
    this.listing = undefined;
    await client?.then((connected) => connected.close()).catch(() => undefined);
  }
}

/** The worker's connections, one per MCP server name; closed when the worker stops. */
export class McpConnections {
  private readonly servers = new Map<string, McpServerConnection>();

  constructor(
    private readonly listTtlMs: number,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  of(definition: McpServerDefinition): McpServerConnection {
    let connection = this.servers.get(definition.name);
    if (!connection || connection.definition !== definition) {
      connection = new McpServerConnection(definition, this.listTtlMs, this.env);
      this.servers.set(definition.name, connection);
    }
    return connection;
  }

  async close(): Promise<void> {
    await Promise.all([...this.servers.values()].map((connection) => connection.close()));
    this.servers.clear();
  }
}

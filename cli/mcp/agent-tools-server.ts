/**
 * The MCP server `durable-agents mcp` runs: every agent as a tool named after it (`{ message }`), whose
 * call starts a durable run and answers with its result, telling progress on the way when the client
 * sent a `progressToken`; a task-augmented call returns at once with a task whose id is the run's id
 * (run-task-store.ts). Beside them, `agent_status`, `agent_approve` and `agent_send` follow a run,
 * decide a call awaiting approval and talk to a session. The server keeps no state of its own: every
 * answer is read from Temporal, so a client (or this server) that goes away loses nothing.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { AgentClient } from '../../client/agent-client';
import type { AgentRegistry } from '../../src/registry';
import { Bounds } from '../../src/defaults';
import { AgentClientError, ClientErrorKind } from '../../src/errors';
import { messageTextSchema } from '../../src/input';
import { runIdProblem } from '../../src/run-id';
import { RunMode } from '../../src/types';
import { boundedString, truncateUtf8 } from '../../src/validation';
import { ProgressTeller, sendRunProgress, type ProgressSink } from './mcp-progress';
import { RunTaskStore, TASK_POLL_INTERVAL_MS, type RunTaskContext } from './run-task-store';
import { formatAnswer } from '../format';
import { asToolResult, textResult } from './run-tool-results';

/** The server's own tools: no agent may take their names. */
export const RunToolName = { status: 'agent_status', approve: 'agent_approve', send: 'agent_send' } as const;

/** Characters of an agent's instructions its tool's description quotes, when the agent has no description. */
const DESCRIPTION_CHARS = 1_000;

/** An agent as the server offers it. */
export interface AgentTool {
  name: string;
  description: string;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The agents of `registry` as tools; an agent named like one of the server's own tools is an error. */
export function agentToolsOf(registry: AgentRegistry): AgentTool[] {
  return registry.entries().map(({ agent }) => {
    if ((Object.values(RunToolName) as string[]).includes(agent.name)) {
      throw new Error(`agent "${agent.name}" has the name of one of the MCP server's own tools: rename the agent`);
    }
    const about = agent.description ?? agent.instructions;
    const text = about.length > DESCRIPTION_CHARS ? `${about.slice(0, DESCRIPTION_CHARS)}…` : about;
    return {
      name: agent.name,
      description: `${text}\n\nStarts a durable run of agent "${agent.name}" with the message and answers with its result.`,
    };
  });
}

const runIdSchema = z.string().superRefine((id, context) => {
  const problem = runIdProblem(id);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** The progress sink of a request whose client asked for progress, if it did. */
function progressSink(extra: Extra): ProgressSink | undefined {
  const progressToken = extra._meta?.progressToken;
  if (progressToken === undefined) return undefined;
  return { progressToken, sendNotification: extra.sendNotification, signal: extra.signal };
}

/** An agent's tool's input: strict, as the server's own tools' are, so a key it does not know is refused. */
const agentToolInputSchema = z.object({ message: messageTextSchema }).strict();

/** An agent's tool: each call a run; the SDK polls the run's task for a call that is not task-augmented. */
function registerAgentTool(server: McpServer, agents: AgentClient, store: RunTaskStore, tool: AgentTool): void {
  server.experimental.tasks.registerToolTask(
    tool.name,
    {
      description: tool.description,
      inputSchema: agentToolInputSchema,
      execution: { taskSupport: 'optional' },
    },
    {
      // The SDK has checked `args` against the schema, but types a task tool's args `unknown` when its
      // schema is a whole object (only a raw shape is inferred): parsed again to type them, not cast.
      createTask: async (args, extra) => {
        const { message } = agentToolInputSchema.parse(args);
        const runId = await agents.start({ agent: tool.name, message });
        const sink = progressSink(extra);
        // Progress is told beside the task until the run ends; the result waits (briefly) for it to catch up.
        if (sink) store.tellingProgress(runId, sendRunProgress(agents, runId, sink, { started: runId }));
        const context = { runId } satisfies RunTaskContext;
        return { task: await extra.taskStore.createTask({ context, pollInterval: TASK_POLL_INTERVAL_MS }) };
      },
      getTask: async (_args, extra) => extra.taskStore.getTask(extra.taskId),
      getTaskResult: async (_args, extra) => (await extra.taskStore.getTaskResult(extra.taskId)) as CallToolResult,
    },
  );
}

/** `agent_status`: where a run is, what it waits for, and its answer once it has one. */
function registerStatusTool(server: McpServer, agents: AgentClient): void {
  server.registerTool(
    RunToolName.status,
    {
      description:
        "A durable agent run's status: its step, usage, the calls awaiting approval (their callId for " +
        'agent_approve), and its answer or failure once it has ended.',
      inputSchema: z.object({ runId: runIdSchema }).strict(),
    },
    ({ runId }) =>
      asToolResult(async () => {
        const report = await agents.report(runId);
        const pendingApprovals = report.state?.pendingApprovals ?? [];
        const details = {
          runId,
          status: report.status,
          closed: report.closed,
          agent: report.agent,
          step: report.step,
          usage: report.usage,
          pendingApprovals,
          ...(report.result && { result: report.result }),
          ...(report.failure && { failure: report.failure.error }),
        };
        const waiting = pendingApprovals.map(({ callId, tool }) => `call ${callId} (${tool}) awaits approval`);
        const outcome = report.result?.output ?? report.failure?.error;
        const text = [
          `run ${runId}: ${report.status}, step ${report.step ?? 0}`,
          ...waiting,
          ...(outcome ? [outcome] : []),
        ];
        return textResult(text.join('\n'), details);
      }),
  );
}

/** `agent_approve`: approves or denies a call awaiting approval, for the record as decided over MCP. */
function registerApproveTool(server: McpServer, agents: AgentClient): void {
  server.registerTool(
    RunToolName.approve,
    {
      description:
        'Approve (approve: true) or deny (approve: false) a tool call a durable agent run awaits approval ' +
        'for; callId as agent_status lists it; note: why, for the run and its audit trail.',
      inputSchema: z
        .object({
          runId: runIdSchema,
          callId: boundedString(Bounds.callIdBytes).min(1),
          approve: z.boolean(),
          note: boundedString(Bounds.noteBytes).optional(),
        })
        .strict(),
    },
    ({ runId, callId, approve, note }) =>
      asToolResult(async () => {
        // The client's name where it introduced itself on this connection (stateless HTTP has none), bounded
        // as the run bounds `decidedBy`: the client chooses it.
        const client = server.server.getClientVersion()?.name;
        const decidedBy = truncateUtf8(client ? `mcp:${client}` : 'mcp', Bounds.nameBytes);
        return textResult(await agents.decide(runId, { callId, approve, ...(note && { note }), decidedBy }), {
          runId,
          callId,
          approve,
        });
      }),
  );
}

/** The first answer of a session just started (or how it ended before it answered). */
async function firstAnswer(agents: AgentClient, runId: string, extra: Extra): Promise<string> {
  const sink = progressSink(extra);
  const teller = sink && new ProgressTeller(sink);
  await teller?.say(`started session ${runId}`).catch(() => undefined);
  for await (const event of agents.stream(runId, { signal: extra.signal })) {
    await teller?.tell(event).catch(() => undefined);
    if (event.type === 'assistant' && event.answer) return event.text;
    if (event.type === 'result') return formatAnswer(event.result.output);
    if (event.type === 'failure') throw new AgentClientError(event.failure.error, ClientErrorKind.runFailed);
  }
  throw new AgentClientError(`the call was cancelled; session ${runId} goes on`, ClientErrorKind.rejected);
}

/** A message to a session that is open: the reply to it, with progress on the way. */
async function sessionReply(agents: AgentClient, runId: string, message: string, extra: Extra): Promise<string> {
  const sink = progressSink(extra);
  if (!sink) return formatAnswer(await agents.chat(runId, message));
  const following = new AbortController();
  const abort = () => following.abort();
  extra.signal.addEventListener('abort', abort);
  const progress = sendRunProgress(agents, runId, { ...sink, signal: following.signal }, { from: 'now' });
  try {
    return formatAnswer(await agents.chat(runId, message));
  } finally {
    following.abort();
    extra.signal.removeEventListener('abort', abort);
    await progress;
  }
}

/**
 * agent_send's `agent`: the name of an agent this server serves, as an enum so that the schema the
 * client sees lists them. Any other name is refused here: a run of an agent no worker registers would
 * wait for one (UNKNOWN_AGENT_WAIT_SECONDS) while the call hangs. With no agents it takes no value.
 */
function servedAgentSchema(names: string[]) {
  const refusal = names.length
    ? `agent must be one of the agents this server serves: ${names.join(', ')}`
    : 'this server serves no agents: give runId, a session to continue';
  return z.enum(names, { error: refusal });
}

/** `agent_send`: a message to a session (runId), or a new session of an agent (agent); answers with the reply. */
function registerSendTool(server: McpServer, agents: AgentClient, tools: AgentTool[]): void {
  const names = tools.map((tool) => tool.name);
  server.registerTool(
    RunToolName.send,
    {
      description:
        'Talk to a durable agent session: with runId, send it the message and answer with its reply; with ' +
        `agent (one of ${names.join(', ') || 'none'}) instead, start a new session with the message. ` +
        'The answer names the session (runId) for the next message.',
      inputSchema: z
        .object({
          message: messageTextSchema,
          runId: runIdSchema.optional(),
          agent: servedAgentSchema(names).optional(),
          userId: boundedString(Bounds.userIdBytes).min(1).optional(),
        })
        .strict()
        .refine((input) => (input.runId === undefined) !== (input.agent === undefined), {
          message: 'give exactly one of runId (a session to continue) and agent (to start one)',
        }),
    },
    ({ message, runId, agent, userId }, extra) =>
      asToolResult(async () => {
        if (runId) return textResult(await sessionReply(agents, runId, message, extra), { runId });
        const started = await agents.start({
          agent: agent!,
          message,
          mode: RunMode.session,
          ...(userId && { userId }),
        });
        return textResult(await firstAnswer(agents, started, extra), { runId: started });
      }),
  );
}

/**
 * A server for one connection (stdio) or one request (HTTP): all of them share `agents`. `closed`
 * aborts when that connection has gone.
 */
export function createAgentToolsServer(
  agents: AgentClient,
  tools: AgentTool[],
  version: string,
  closed?: AbortSignal,
): McpServer {
  const store = new RunTaskStore(agents, closed);
  const server = new McpServer(
    { name: 'durable-agents', version },
    {
      capabilities: { tools: {}, tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } },
      taskStore: store,
      instructions:
        'Each agent tool starts a durable agent run (on Temporal) and answers with its result; the run goes on ' +
        'if this connection ends. agent_status follows a run, agent_approve decides a call awaiting approval, ' +
        'agent_send talks to a session.',
    },
  );
  for (const tool of tools) registerAgentTool(server, agents, store, tool);
  registerStatusTool(server, agents);
  registerApproveTool(server, agents);
  registerSendTool(server, agents, tools);
  return server;
}

/**
 * `durable-agents agents`: the agents a worker started with this environment would register (those
 * `AGENT_MODULES` names, and the example helpdesk on the offline demo model), read the way the worker
 * reads them. Needs no Temporal.
 */
import type { Command } from 'commander';
import type { AgentDefinition } from '../../src/agent';
import { loadWorkerConfig } from '../../src/config';
import {
  DEFAULT_APPROVAL_TIMEOUT_SECONDS,
  DEFAULT_MAX_REPEATS,
  DEFAULT_MAX_STEPS,
  DEFAULT_MAX_TOOL_CALLS_PER_TURN,
} from '../../src/defaults';
import type { EnvReference, McpServerDefinition } from '../../src/mcp-server';
import type { AgentRegistry } from '../../src/registry';
import { terminalSafe } from '../../src/terminal-text';
import { MemoryToolName, type Budgets, type Limits } from '../../src/types';
import { commandEnv, globalOptions, type Env, type LoadWorkerSide } from './worker-side';

/** The limits a run of an agent gets when its input sets none (workflows/agent-run.ts, workflows/turn.ts). */
const DEFAULT_LIMITS = {
  maxSteps: DEFAULT_MAX_STEPS,
  maxRepeats: DEFAULT_MAX_REPEATS,
  maxToolCallsPerTurn: DEFAULT_MAX_TOOL_CALLS_PER_TURN,
} as const satisfies Limits;

/**
 * An MCP server an agent uses, as `agents --json` prints it: where it is, and nothing that may be
 * secret (no arguments, environment, headers, URL credentials or query; `${VAR}` references unfilled).
 */
export interface McpServerInfo {
  name: string;
  /** A stdio server's command. */
  command?: string;
  /** An HTTP server's URL, or `${VAR}` for one the worker reads from its environment. */
  url?: string;
  /** `true` for each of its tools, or the patterns of those that need approval. */
  requiresApproval: boolean | string[];
}

/** One agent, as `agents --json` prints it. */
export interface AgentInfo {
  name: string;
  /** "built-in", or the module as `AGENT_MODULES` names it. */
  source: string;
  description: string | null;
  /** The agent's own model; null: the worker's default (`defaultModel`, env `AGENT_MODEL`). */
  model: string | null;
  defaultModel: string;
  /** `approvalByArguments`: the tool's `requiresApproval` is a function of the arguments, which decides per call. */
  tools: { name: string; description: string; requiresApproval: boolean; approvalByArguments?: true }[];
  /** The MCP servers whose tools its runs offer too (listed when a run starts). */
  mcpServers: McpServerInfo[];
  approvalTimeoutSeconds: number;
  /** The limits in force for a run whose input sets none: the agent's own over the defaults. */
  limits: Limits;
  /** The limits the agent sets itself (the rest of `limits` are defaults). */
  agentLimits: Limits;
  memory: boolean;
  fallbackModels: string[];
}

/**
 * An HTTP server's URL without what may be secret: credentials, query and fragment. One with `${VAR}`
 * references is no URL until the worker fills it in, so it is cut as text, its credentials first (an
 * unescaped `?` may be part of a password).
 */
function shownUrl(url: string | EnvReference): string {
  if (typeof url !== 'string') return `\${${url.fromEnv}}`;
  if (url.includes('${')) return url.replace(/^([^:/?#]+:\/\/)[^/]*@/, '$1').replace(/[?#][^]*$/, '');
  const { protocol, host, pathname } = new URL(url);
  return `${protocol}//${host}${pathname}`;
}

function describeMcpServer(server: McpServerDefinition): McpServerInfo {
  return {
    name: server.name,
    ...('command' in server ? { command: server.command } : { url: shownUrl(server.url) }),
    requiresApproval: server.requiresApproval ?? false,
  };
}

function describeAgent(
  agent: AgentDefinition,
  source: string,
  defaultModel: string,
  mcpServers: McpServerDefinition[],
): AgentInfo {
  const approved = agent.approval?.tools ?? [];
  return {
    name: agent.name,
    source,
    description: agent.description ?? null,
    model: agent.model ?? null,
    defaultModel,
    tools: agent.tools.map((tool) => ({
      name: tool.name,
      description: tool.description,
      requiresApproval: Boolean(tool.requiresApproval) || approved.includes(tool.name),
      ...(typeof tool.requiresApproval === 'function' && { approvalByArguments: true as const }),
    })),
    mcpServers: mcpServers.map(describeMcpServer),
    approvalTimeoutSeconds: agent.approval?.timeoutSeconds ?? DEFAULT_APPROVAL_TIMEOUT_SECONDS,
    limits: { ...DEFAULT_LIMITS, ...agent.limits },
    agentLimits: agent.limits ?? {},
    memory: agent.memory === true,
    fallbackModels: agent.fallbackModels ?? [],
  };
}

/** Every agent of `registry`, by name. */
export function describeAgents(registry: AgentRegistry, defaultModel: string): AgentInfo[] {
  return registry
    .entries()
    .map(({ agent, source }) => describeAgent(agent, source, defaultModel, registry.mcpServersOf(agent)));
}

/** 86400 → "24h", 90 → "1m 30s". */
export function formatSeconds(total: number): string {
  const parts: string[] = [];
  let rest = total;
  for (const [unit, seconds] of [
    ['h', 3_600],
    ['m', 60],
  ] as const) {
    if (rest >= seconds) {
      parts.push(`${Math.floor(rest / seconds)}${unit}`);
      rest %= seconds;
    }
  }
  if (rest || !parts.length) parts.push(`${rest}s`);
  return parts.join(' ');
}

function formatBudgets(budgets: Budgets | undefined): string[] {
  return Object.entries(budgets ?? {}).map(([name, value]) => `${name} ${value}`);
}

function formatLimits({ limits, agentLimits }: AgentInfo): string {
  const { lifetime, ...own } = agentLimits;
  const set = [...formatBudgets(own), ...formatBudgets(lifetime).map((budget) => `lifetime ${budget}`)];
  const defaults = Object.entries(DEFAULT_LIMITS)
    .filter(([name]) => !(name in own))
    .map(([name]) => `${name} ${limits[name as keyof typeof DEFAULT_LIMITS]}`);
  return [set.join(', '), defaults.length ? `defaults: ${defaults.join(', ')}` : ''].filter(Boolean).join(' · ');
}

/** `fs (npx)`, `search (https://mcp.example.com/mcp, needs approval for write_*)`. */
function formatMcpServer({ name, command, url, requiresApproval }: McpServerInfo): string {
  const approval = Array.isArray(requiresApproval)
    ? `, needs approval for ${requiresApproval.join(', ')}`
    : requiresApproval
      ? ', needs approval'
      : '';
  return `${name} (${command ?? url}${approval})`;
}

/** `agents` for people: a block per agent. */
export function formatAgents(agents: AgentInfo[]): string {
  return agents
    .map((agent) => {
      const approval = (tool: AgentInfo['tools'][number]) =>
        tool.approvalByArguments
          ? ' (needs approval, by its arguments)'
          : tool.requiresApproval
            ? ' (needs approval)'
            : '';
      const tools = agent.tools.map((tool) => `${tool.name}${approval(tool)}`);
      // An agent made of MCP servers has no tools of its own, yet its runs have tools.
      const noTools = agent.mcpServers.length ? 'none of its own; those its MCP servers list' : 'none';
      const servers: [string, string][] = agent.mcpServers.length
        ? [['mcp servers', agent.mcpServers.map(formatMcpServer).join(', ')]]
        : [];
      const rows: [string, string][] = [
        ['model', agent.model ?? `worker default (AGENT_MODEL=${agent.defaultModel})`],
        ['tools', tools.join(', ') || noTools],
        ...servers,
        ['approval timeout', formatSeconds(agent.approvalTimeoutSeconds)],
        ['limits', formatLimits(agent)],
        ['memory', agent.memory ? `on (adds tools ${Object.values(MemoryToolName).join(', ')})` : 'off'],
        ['fallback models', agent.fallbackModels.join(', ') || 'none'],
      ];
      return [
        `${agent.name} (${agent.source})`,
        ...(agent.description ? [`  ${agent.description}`] : []),
        ...rows.map(([label, value]) => `  ${`${label}:`.padEnd(18)}${value}`),
      ].join('\n');
    })
    .join('\n\n');
}

const HELP_AFTER = `
Examples:
  $ durable-agents agents
  $ AGENT_MODULES=./weather.mjs durable-agents agents --json

Environment (read as the worker reads it; no Temporal server is needed):
  AGENT_MODULES   plug-in agent modules, comma-separated (paths relative to the current folder);
                  helpdesk names the example agent
  AGENT_MODEL     the model of agents that name none (default gpt-4o-mini); offline brings the helpdesk
  HELPDESK_LEDGER where the example helpdesk records refunds

A module that does not load, or defines a bad agent, is one line on stderr and exit code 1.`;

export function registerAgentsCommand(program: Command, loadWorkerSide: LoadWorkerSide): void {
  program
    .command('agents')
    .description(
      'list the agents a worker with this environment registers (those AGENT_MODULES names): ' +
        'model, tools, approvals, limits, memory; needs no Temporal server',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (_options: unknown, command: Command) => {
      const config = loadWorkerConfig(commandEnv(command));
      let registry: AgentRegistry;
      try {
        registry = await (await loadWorkerSide()).buildRegistry(config);
      } catch (error) {
        // An import error can span lines (a syntax error's excerpt): the CLI's failures are one line.
        throw new Error((error as Error).message.replace(/\s*\n\s*/g, ' ').trim(), { cause: error });
      }
      const agents = describeAgents(registry, config.AGENT_MODEL);
      // Descriptions and names come from plug-in modules: shown to people with their control characters inert.
      console.log(globalOptions(command).json ? JSON.stringify(agents, null, 2) : terminalSafe(formatAgents(agents)));
    });
}

/**
 * The names of the agents this environment defines (`AGENT_MODULES`, as a worker reads it), for
 * `start` to warn about an agent none of them is; undefined when it defines none or cannot tell (a
 * module that does not load is the `agents` command's to report), so that nothing is said then.
 */
export async function localAgentNames(loadWorkerSide: LoadWorkerSide, env: Env): Promise<string[] | undefined> {
  if (!env.AGENT_MODULES?.trim()) return undefined;
  try {
    const names = (await (await loadWorkerSide()).buildRegistry(loadWorkerConfig(env))).names();
    return names.length ? names : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The agents a worker registers: those of the plug-in modules named in env `AGENT_MODULES`, and the
 * example agents it names (`helpdesk`) or the offline demo model brings. A module's default export is
 * an array of agents (and MCP servers, which agents of any module may name), or a function that
 * receives `pluginApi` (`{ defineAgent, defineTool, defineMcpServer, fromEnv, ToolError, z }`) and
 * returns one. A TypeScript module (.ts, .mts, .cts) needs a loader: the worker from the
 * sources runs under tsx already, the compiled one (the package's dist/) brings tsx in for it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXAMPLE_AGENT_NAMES, exampleAgents, type ExampleAgentOptions } from '../agents';
import type { AgentDefinition } from '../src/agent';
import type { McpServerDefinition } from '../src/mcp-server';
import { WorkerRole, type WorkerConfig } from '../src/config';
import { DefinitionError } from '../src/errors';
import { pluginApi } from '../src/plugin-api';
import { AgentRegistry } from '../src/registry';
import { nearestName } from '../src/suggest';
import { OFFLINE_AGENT_MODEL, OFFLINE_MODEL_NAME } from './offline-model';

const TYPESCRIPT_MODULE = /\.[cm]?tsx?$/;

/**
 * Imports a module by absolute path. This file ending in .ts means a TypeScript loader runs it (tsx,
 * or the tests' transform), which takes TypeScript modules as well; compiled to .js it runs on plain
 * Node, which does not, so TypeScript modules go through tsx's API, loaded only when one is named.
 */
async function importModule(absolute: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(absolute).href;
  if (__filename.endsWith('.ts') || !TYPESCRIPT_MODULE.test(absolute)) return import(url);
  const { tsImport } = await import('tsx/esm/api');
  return tsImport(url, { parentURL: pathToFileURL(__filename).href });
}

/** Splits the comma-separated `AGENT_MODULES` value. */
export function parseModuleList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Imports one module (relative paths from `cwd`) and returns its agents and MCP servers, or throws naming the module. */
export async function loadAgentModule(
  path: string,
  cwd = process.cwd(),
): Promise<(AgentDefinition | McpServerDefinition)[]> {
  const absolute = resolve(cwd, path);
  let loaded: Record<string, unknown>;
  try {
    loaded = await importModule(absolute);
  } catch (error) {
    throw new DefinitionError(`cannot load agent module ${absolute}: ${(error as Error).message}`);
  }
  let exported = loaded.default;
  // A CommonJS or transpiled module arrives wrapped once more.
  if (exported && typeof exported === 'object' && 'default' in exported && !Array.isArray(exported)) {
    exported = (exported as { default: unknown }).default;
  }
  try {
    const agents = typeof exported === 'function' ? await exported(pluginApi) : exported;
    if (!Array.isArray(agents)) {
      throw new DefinitionError('its default export must be an array of agents or a function (api) => agents');
    }
    return agents;
  } catch (error) {
    throw new DefinitionError(`agent module ${absolute}: ${(error as Error).message}`);
  }
}

/** An `AGENT_MODULES` entry with no folder and no extension (`helpdesk`) names an example agent. */
const EXAMPLE_ENTRY = /^[\w-]+$/;

/** The example the offline demo model's conversation is written for: a worker serving it registers it. */
const DEMO_AGENT = 'helpdesk';

/** How the registry (and `durable-agents agents`) names where an example agent comes from. */
const EXAMPLE_SOURCE = 'built-in';

const NO_AGENTS =
  'no agents to run: AGENT_MODULES names none. Set it to your agent modules (AGENT_MODULES=./weather.mjs), ' +
  'to helpdesk for the example agent, or run with --offline for the demo (its model and the helpdesk)';

/** The example agents an `AGENT_MODULES` entry names, or throws saying which names there are. */
function examplesNamed(entry: string, options: ExampleAgentOptions): AgentDefinition[] {
  const agents = exampleAgents(entry, options);
  if (agents) return agents;
  const meant = nearestName(entry, EXAMPLE_AGENT_NAMES);
  throw new DefinitionError(
    `AGENT_MODULES names "${entry}", which is neither a module path (./${entry}.mjs) nor an example agent ` +
      `(${meant ? `did you mean "${meant}"?` : EXAMPLE_AGENT_NAMES.join(', ')})`,
  );
}

/** Whether a worker of `config` calls the offline demo model by default (`--offline`, `AGENT_MODEL=offline`). */
function servesOfflineModel(config: WorkerConfig): boolean {
  return config.AGENT_MODEL === OFFLINE_AGENT_MODEL || config.AGENT_MODEL === OFFLINE_MODEL_NAME;
}

/**
 * The agents a worker of `config` registers: those of each `AGENT_MODULES` entry in turn (a module
 * path, or an example's name: `helpdesk`); on the offline demo model, the helpdesk example as well,
 * unless a module defines an agent of that name. Throws on a bad module or definition, and when a
 * worker that runs runs or tool calls would have no agent at all.
 */
export async function buildRegistry(config: WorkerConfig): Promise<AgentRegistry> {
  const examples = { helpdeskLedger: config.HELPDESK_LEDGER };
  const registry = new AgentRegistry();
  for (const entry of new Set(parseModuleList(config.AGENT_MODULES))) {
    if (EXAMPLE_ENTRY.test(entry)) registry.add(examplesNamed(entry, examples), EXAMPLE_SOURCE);
    else registry.add(await loadAgentModule(entry), entry);
  }
  if (servesOfflineModel(config) && !registry.get(DEMO_AGENT)) {
    registry.add(examplesNamed(DEMO_AGENT, examples), EXAMPLE_SOURCE);
  }
  if (!registry.names().length && config.WORKER_ROLE !== WorkerRole.model) throw new DefinitionError(NO_AGENTS);
  return registry.checkMcpServers();
}

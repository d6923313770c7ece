/**
 * Loads plug-in agent modules named in env `AGENT_MODULES`. A module's default export is an array
 * of agents, or a function that receives `pluginApi` (`{ defineAgent, defineTool, ToolError, z }`)
 * and returns one.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentDefinition } from '../src/agent';
import { DefinitionError } from '../src/errors';
import { pluginApi } from '../src/plugin-api';

/** Splits the comma-separated `AGENT_MODULES` value. */
export function parseModuleList(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Imports one module (relative paths from `cwd`) and returns its agents, or throws naming the module. */
export async function loadAgentModule(path: string, cwd = process.cwd()): Promise<AgentDefinition[]> {
  const absolute = resolve(cwd, path);
  let loaded: Record<string, unknown>;
  try {
    loaded = await import(pathToFileURL(absolute).href);
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

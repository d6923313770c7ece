/**
 * Loads plug-in agent modules named in env `AGENT_MODULES`. A module's default export is an array
 * of agents, or a function that receives `pluginApi` (`{ defineAgent, defineTool, ToolError, z }`)
 * and returns one. A TypeScript module (.ts, .mts, .cts) needs a loader: the worker from the sources
 * runs under tsx already, the compiled one (the package's dist/) brings tsx in for it.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AgentDefinition } from '../src/agent';
import { DefinitionError } from '../src/errors';
import { pluginApi } from '../src/plugin-api';

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

/** Imports one module (relative paths from `cwd`) and returns its agents, or throws naming the module. */
export async function loadAgentModule(path: string, cwd = process.cwd()): Promise<AgentDefinition[]> {
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

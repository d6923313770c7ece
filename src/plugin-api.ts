/**
 * What a function-style plug-in module receives (`export default ({ defineAgent, ... }) => [agents]`),
 * so a plug-in needs no import path into this project.
 */
import { z } from 'zod';
import { defineAgent } from './agent';
import { ToolError } from './errors';
import { defineMcpServer, fromEnv } from './mcp-server';
import { defineTool } from './tool';

export const pluginApi = { defineAgent, defineTool, defineMcpServer, fromEnv, ToolError, z } as const;
export type PluginApi = typeof pluginApi;

/**
 * The agent author's API: define agents and tools, and raise tool errors. Talking to runs is the
 * client's (`client/`), testing agents against a scripted model is `testing/`'s.
 */
export { z } from 'zod';
export { defineAgent, type AgentConfig, type AgentDefinition, type ApprovalPolicy } from './agent';
export { defineTool, type ToolConfig, type ToolContext, type ToolDefinition } from './tool';
export {
  defineMcpServer,
  fromEnv,
  type McpServerConfig,
  type McpServerDefinition,
  type EnvReference,
} from './mcp-server';
export { DefinitionError, ErrorType, ToolError } from './errors';
export { pluginApi, type PluginApi } from './plugin-api';
export type { LimitName, Limits } from './types';

/**
 * durable-agents' public API: define agents and tools, talk to runs, and the contract names.
 */
export { z } from 'zod';
export { defineAgent, type AgentConfig, type AgentDefinition } from './agent';
export { defineTool, DefinitionError, ToolError, type ToolConfig, type ToolContext, type ToolDefinition } from './tool';
export { pluginApi, type PluginApi } from './agent-modules';
export { AgentClient, AgentClientError, listQuery, type ListFilter, type RunEvent, type RunSummary } from './agent-client';
export { ErrorType } from './errors';
export { agentRunInputSchema, type AgentRunInput } from './input';
export { DEFAULT_PRICES, type ModelPrice, type PriceTable } from './pricing';
export * from './contract';
export * from './types';

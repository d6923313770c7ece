import { z } from 'zod';
import { defineAgent, type AgentConfig, type AgentDefinition } from '../../src/agent';
import { parseModuleList } from '../../runtime/agent-modules';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS } from '../../src/defaults';
import { DefinitionError } from '../../src/errors';
import { AgentRegistry } from '../../src/registry';
import { resolveSpec, toolParameters } from '../../src/spec';
import { defineTool, type ToolConfig, type ToolDefinition } from '../../src/tool';
import type { ModelCallPolicy } from '../../src/types';
import { thrown } from '../support/thrown';

const weatherInput = z.object({
  city: z.string().describe('City name'),
  days: z.number().int().default(1),
  units: z.enum(['c', 'f']).optional(),
});

function tool(overrides: Partial<ToolConfig<z.ZodObject>> = {}): ToolDefinition {
  return defineTool({
    name: 'weather',
    description: 'Forecast for a city',
    input: weatherInput,
    execute: () => 'sunny',
    ...overrides,
  });
}

function agent(overrides: Partial<AgentConfig> = {}): AgentDefinition {
  return defineAgent({ name: 'forecaster', instructions: 'Answer about weather.', tools: [tool()], ...overrides });
}

/** Runs `define` and returns the DefinitionError it throws. */
const definitionError = (run: () => unknown) => thrown(DefinitionError, run);

describe('defineTool', () => {
  it('returns the config with kind "tool"', () => {
    const execute = () => 'sunny';
    const defined = defineTool({ name: 'get_weather-2', description: 'Forecast', input: weatherInput, execute });
    expect(defined).toMatchObject({
      kind: 'tool',
      name: 'get_weather-2',
      description: 'Forecast',
      input: weatherInput,
      execute,
    });
  });

  it.each<[string, Partial<ToolConfig<z.ZodObject>>, RegExp]>([
    ['a name with a space', { name: 'get weather' }, /tool name "get weather" must match/],
    ['a name with a dot', { name: 'get.weather' }, /tool name "get.weather" must match/],
    ['an empty name', { name: '' }, /tool name "" must match/],
    ['a 65-character name', { name: 'a'.repeat(65) }, /must match/],
    ['a missing description', { description: undefined }, /tool "weather" needs a description/],
    ['a blank description', { description: '   ' }, /tool "weather" needs a description/],
    [
      'a non-object input schema',
      { input: z.string() as unknown as z.ZodObject },
      /tool "weather": input must be a zod object schema/,
    ],
    [
      'a plain-object input schema',
      { input: { city: 'string' } as unknown as z.ZodObject },
      /input must be a zod object schema/,
    ],
    [
      'a non-function execute',
      { execute: 'run' as unknown as () => unknown },
      /tool "weather": execute must be a function/,
    ],
  ])('rejects %s', (_case, overrides, message) => {
    expect(definitionError(() => tool(overrides)).message).toMatch(message);
  });

  it('accepts a 64-character name', () => {
    expect(tool({ name: 'a'.repeat(64) }).name).toHaveLength(64);
  });
});

describe('defineAgent', () => {
  it('returns the config with kind "agent"', () => {
    const defined = agent({ name: 'weather.bot_1-x', model: 'gpt-4.1' });
    expect(defined).toMatchObject({
      kind: 'agent',
      name: 'weather.bot_1-x',
      model: 'gpt-4.1',
      instructions: 'Answer about weather.',
    });
    expect(defined.tools.map((t) => t.name)).toEqual(['weather']);
  });

  it.each<[string, Partial<AgentConfig>, RegExp]>([
    ['a name with a slash', { name: 'a/b' }, /agent name "a\/b" must match/],
    ['an empty name', { name: '' }, /agent name "" must match/],
    ['missing instructions', { instructions: undefined as unknown as string }, /agent "forecaster" needs instructions/],
    ['blank instructions', { instructions: ' \n ' }, /agent "forecaster" needs instructions/],
    [
      'tools that is not a list',
      { tools: undefined as unknown as ToolDefinition[] },
      /tools must be a list of defineTool/,
    ],
    [
      'a tool not made by defineTool',
      {
        tools: [{ name: 'raw', description: 'x', input: weatherInput, execute: () => 1 } as unknown as ToolDefinition],
      },
      /agent "forecaster": tools must be a list of defineTool\(\.\.\.\) results/,
    ],
    [
      'a duplicate tool name',
      { tools: [tool(), tool({ description: 'again' })] },
      /agent "forecaster" lists tool "weather" twice/,
    ],
    ['a zero step budget', { limits: { maxSteps: 0 } }, /agent "forecaster" limits: maxSteps: /],
    ['an unknown budget', { limits: { maxMinutes: 5 } as never }, /agent "forecaster" limits: .*maxMinutes/],
    [
      'a negative approval timeout',
      { approval: { timeoutSeconds: -1 } },
      /approval\.timeoutSeconds must be a positive number/,
    ],
    [
      'approval naming an unknown tool',
      { approval: { tools: ['weather', 'refund', 'email'] } },
      /agent "forecaster": approval names unknown tools refund, email/,
    ],
  ])('rejects %s', (_case, overrides, message) => {
    expect(definitionError(() => agent(overrides)).message).toMatch(message);
  });
});

describe('toolParameters', () => {
  const parameters = toolParameters(tool());

  it('is a JSON schema object without the $schema dialect key', () => {
    expect(parameters).not.toHaveProperty('$schema');
    expect(parameters.type).toBe('object');
    expect(parameters.properties).toMatchObject({
      city: { type: 'string', description: 'City name' },
      days: { type: 'integer', default: 1 },
      units: { enum: ['c', 'f'] },
    });
  });

  it('requires only fields without a default or optional marker (input mode)', () => {
    expect(parameters.required).toEqual(['city']);
  });
});

describe('resolveSpec', () => {
  const modelCall: ModelCallPolicy = { requestTimeoutMs: 120_000, heartbeatTimeoutMs: 30_000, maxAttempts: 5 };
  const plain = tool({ name: 'plain' });
  const gated = tool({ name: 'gated', requiresApproval: true });
  const slow = tool({
    name: 'slow',
    timeout: '10s',
    heartbeatTimeout: 2_500,
    retry: { maximumAttempts: 7, nonRetryableErrorTypes: ['Fatal'] },
    taskQueue: 'private',
  });
  const byAgent = tool({ name: 'by_agent' });
  const definition = agent({ tools: [plain, gated, slow, byAgent], approval: { tools: ['by_agent'] } });
  const spec = resolveSpec(definition, { defaultModel: 'default-model', modelCall, transcriptMaxBytes: 500_000 });
  const toolSpec = (name: string) => spec.tools.find((t) => t.name === name)!;

  it('copies the agent, with defaults for what it leaves out', () => {
    expect(spec).toMatchObject({
      name: 'forecaster',
      description: '',
      instructions: 'Answer about weather.',
      limits: {},
      approvalTimeoutSeconds: DEFAULT_APPROVAL_TIMEOUT_SECONDS,
      modelCall,
    });
    expect(DEFAULT_APPROVAL_TIMEOUT_SECONDS).toBe(86_400);
    expect(spec.tools.map((t) => t.name)).toEqual(['plain', 'gated', 'slow', 'by_agent']);
    expect(toolSpec('plain').parameters).toEqual(toolParameters(plain));
  });

  it('takes limits and approval timeout from the agent', () => {
    const custom = resolveSpec(agent({ limits: { maxSteps: 4 }, approval: { timeoutSeconds: 60 } }), {
      defaultModel: 'm',
      modelCall,
      transcriptMaxBytes: 1_000,
    });
    expect(custom.limits).toEqual({ maxSteps: 4 });
    expect(custom.approvalTimeoutSeconds).toBe(60);
    expect(custom.transcriptMaxBytes).toBe(1_000);
  });

  it.each([
    ['plain', false],
    ['gated', true],
    ['slow', false],
    ['by_agent', true],
  ])('requiresApproval of %s is %s (from the tool or the agent approval list)', (name, expected) => {
    expect(toolSpec(name).requiresApproval).toBe(expected);
  });

  it('converts timeouts to milliseconds, defaulting to 60s', () => {
    expect(toolSpec('slow')).toMatchObject({
      startToCloseTimeoutMs: 10_000,
      heartbeatTimeoutMs: 2_500,
      taskQueue: 'private',
    });
    expect(toolSpec('plain').startToCloseTimeoutMs).toBe(60_000);
    expect(toolSpec('plain').heartbeatTimeoutMs).toBeUndefined();
    expect(toolSpec('plain').taskQueue).toBeUndefined();
  });

  it("merges the tool's retry policy over the defaults", () => {
    expect(toolSpec('plain').retry).toEqual({ maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2 });
    expect(toolSpec('slow').retry).toEqual({
      maximumAttempts: 7,
      initialInterval: '1s',
      backoffCoefficient: 2,
      nonRetryableErrorTypes: ['Fatal'],
    });
  });

  it.each<[string, string | undefined, string | undefined, string]>([
    ['the run', 'run-model', 'agent-model', 'run-model'],
    ['the agent', undefined, 'agent-model', 'agent-model'],
    ['the default', undefined, undefined, 'default-model'],
  ])('takes the model from %s first', (_source, runModel, agentModel, expected) => {
    const resolved = resolveSpec(agent({ model: agentModel }), {
      model: runModel,
      defaultModel: 'default-model',
      modelCall,
      transcriptMaxBytes: 500_000,
    });
    expect(resolved.model).toBe(expected);
  });
});

describe('AgentRegistry', () => {
  const alpha = agent({ name: 'alpha' });
  const beta = agent({ name: 'beta' });
  const gamma = agent({ name: 'gamma' });

  it('finds added agents by name and lists names sorted', () => {
    const registry = new AgentRegistry().add([gamma, alpha], 'built-in').add([beta], './plugins/beta.js');
    expect(registry.get('beta')).toBe(beta);
    expect(registry.get('delta')).toBeUndefined();
    expect(registry.names()).toEqual(['alpha', 'beta', 'gamma']);
  });

  it('rejects a duplicate name, naming both sources', () => {
    const registry = new AgentRegistry().add([alpha], 'built-in');
    const error = definitionError(() => registry.add([agent({ name: 'alpha' })], './plugins/alpha.js'));
    expect(error.message).toBe(
      './plugins/alpha.js: agent "alpha" is already defined by built-in; agent names must be unique',
    );
    expect(registry.get('alpha')).toBe(alpha);
  });

  it('rejects a duplicate within one batch', () => {
    expect(definitionError(() => new AgentRegistry().add([alpha, alpha], 'mod.js')).message).toMatch(
      /already defined by mod\.js/,
    );
  });

  it.each([
    ['a plain object', { name: 'raw', instructions: 'x', tools: [] }],
    ['undefined', undefined],
  ])('rejects %s that is not a defineAgent result, naming the source', (_case, entry) => {
    const error = definitionError(() => new AgentRegistry().add([entry as unknown as AgentDefinition], 'mod.js'));
    expect(error.message).toMatch(/^mod\.js: .* is not a defineAgent\(\.\.\.\) result$/);
  });
});

describe('parseModuleList', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    [' , ,', []],
    ['./a.js', ['./a.js']],
    [' ./a.js , /abs/b.mjs,,c.js ', ['./a.js', '/abs/b.mjs', 'c.js']],
  ])('parses %j', (value, expected) => {
    expect(parseModuleList(value)).toEqual(expected);
  });
});

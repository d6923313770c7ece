import { z } from 'zod';
import { defineAgent, type AgentConfig, type AgentDefinition } from '../../src/agent';
import { parseModuleList } from '../../runtime/agent-modules';
import { DEFAULT_APPROVAL_TIMEOUT_SECONDS } from '../../src/defaults';
import { DefinitionError } from '../../src/errors';
import { AgentRegistry } from '../../src/registry';
import { buildContextWindows } from '../../src/context-windows';
import { DEFAULT_PRICES } from '../../src/pricing';
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

  // Plug-ins in plain JavaScript get no type check: a misspelt option must stop the worker, not be ignored.
  it.each<[string, Record<string, unknown>, string]>([
    [
      'a misspelt requiresApproval',
      { requireApproval: true },
      'tool "weather": unknown option "requireApproval" (did you mean "requiresApproval"?)',
    ],
    ['a wrongly cased option', { TimeOut: '5s' }, 'tool "weather": unknown option "TimeOut" (did you mean "timeout"?)'],
    [
      'an option with no near name, listing the known ones',
      { colour: 'red' },
      'tool "weather": unknown option "colour"; known options: name, description, input, execute, requiresApproval, timeout, heartbeatTimeout, retry, taskQueue, local, exposeErrors',
    ],
    [
      'two unknown options, in one line',
      { retries: 3, exposeError: true },
      'tool "weather": unknown option "retries"; unknown option "exposeError" (did you mean "exposeErrors"?); known options: name, description, input, execute, requiresApproval, timeout, heartbeatTimeout, retry, taskQueue, local, exposeErrors',
    ],
    [
      'a misspelt description, before saying the description is missing',
      { description: undefined, desciption: 'Forecast' },
      'tool "weather": unknown option "desciption" (did you mean "description"?)',
    ],
    [
      'a misspelt name, on a tool without one',
      { name: undefined, nmae: 'weather' },
      'tool without a name: unknown option "nmae" (did you mean "name"?)',
    ],
    [
      'a misspelt retry option',
      { retry: { maxAttempts: 2 } },
      'tool "weather": unknown retry option "maxAttempts" (did you mean "maximumAttempts"?)',
    ],
  ])('rejects %s, naming it', (_case, overrides, message) => {
    expect(definitionError(() => tool(overrides as Partial<ToolConfig<z.ZodObject>>)).message).toBe(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'requiresApproval as a string',
      { requiresApproval: 'yes' },
      'requiresApproval must be true, false or a function of the arguments such as (args) => args.amountUsd > 100, not "yes"',
    ],
    [
      'requiresApproval as a number',
      { requiresApproval: 1 },
      'requiresApproval must be true, false or a function of the arguments such as (args) => args.amountUsd > 100, not 1',
    ],
    ['exposeErrors as a string', { exposeErrors: 'true' }, 'exposeErrors must be true or false, not "true"'],
    ['an empty taskQueue', { taskQueue: '' }, 'taskQueue must be the name of a task queue, not ""'],
    ['a blank taskQueue', { taskQueue: '  ' }, 'taskQueue must be the name of a task queue, not "  "'],
    ['a numeric taskQueue', { taskQueue: 7 }, 'taskQueue must be the name of a task queue, not 7'],
    ['local as a string', { local: 'yes' }, 'local must be true or false, not "yes"'],
    [
      'a local tool on another task queue',
      { local: true, taskQueue: 'private' },
      'a local tool runs on the worker running its workflow, so it cannot have a taskQueue: drop one of them',
    ],
    [
      'an unparseable timeout',
      { timeout: 'soon' },
      'timeout must be a positive duration such as "30s" or 30000 (milliseconds), not "soon"',
    ],
    ['a negative timeout', { timeout: '-5s' }, 'timeout must be a positive duration'],
    ['a zero timeout', { timeout: 0 }, 'timeout must be a positive duration'],
    ['a timeout that is an object', { timeout: { seconds: 5 } }, 'timeout must be a positive duration'],
    [
      'an unparseable heartbeatTimeout',
      { heartbeatTimeout: '5 parsecs' },
      'heartbeatTimeout must be a positive duration',
    ],
    ['an infinite heartbeatTimeout', { heartbeatTimeout: Infinity }, 'heartbeatTimeout must be a positive duration'],
    ['retry as a number', { retry: 3 }, 'retry must be a retry policy object such as { maximumAttempts: 3 }, not 3'],
    ['retry as null', { retry: null }, 'retry must be a retry policy object'],
    ['retry as a list', { retry: [3] }, 'retry must be a retry policy object'],
    [
      'zero attempts',
      { retry: { maximumAttempts: 0 } },
      'retry: RetryPolicy.maximumAttempts must be a positive integer',
    ],
    [
      'a maximum interval below the default initial interval',
      { retry: { maximumInterval: '500ms' } },
      'retry: RetryPolicy.maximumInterval cannot be less than its initialInterval',
    ],
  ])('rejects %s', (_case, overrides, start) => {
    const { message } = definitionError(() => tool(overrides as Partial<ToolConfig<z.ZodObject>>));
    const expected = `tool "weather": ${start}`;
    expect(message.slice(0, expected.length)).toBe(expected);
  });

  it('accepts every option it knows, each with a valid value, and keeps them', () => {
    const options = {
      requiresApproval: true,
      exposeErrors: false,
      timeout: '10s',
      heartbeatTimeout: 2_000,
      retry: {
        maximumAttempts: 4,
        initialInterval: '200ms',
        maximumInterval: '5s',
        backoffCoefficient: 1.5,
        nonRetryableErrorTypes: ['Fatal'],
      },
      taskQueue: 'private',
    };
    expect(tool(options)).toMatchObject({ kind: 'tool', name: 'weather', ...options });
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
    [
      'an unknown budget',
      { limits: { maxMinutes: 5 } as never },
      /^agent "forecaster" limits: unknown limit "maxMinutes"; known limits: maxSteps, maxTokens, maxCostUsd, maxDurationSeconds, maxRepeats, maxToolCallsPerTurn, maxDepth, maxOutputRepairs, lifetime$/,
    ],
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
    [
      'approval naming a tool whose approval depends on its arguments',
      { tools: [tool({ name: 'weather', requiresApproval: () => true })], approval: { tools: ['weather'] } },
      /agent "forecaster": approval\.tools names weather, whose requiresApproval is a function of the arguments: let the function decide \(drop the name from approval\.tools\) or ask for every call \(requiresApproval: true\)$/,
    ],
    [
      'approval that is not an object',
      { approval: true as never },
      /agent "forecaster": approval must be an object such as \{ tools: \["issue_refund"\] \}, not true/,
    ],
    [
      'an output that is not a zod object',
      { output: z.string() as never },
      /^agent "forecaster": output must be a z\.object\(\{\.\.\.\}\) schema \(an answer is a JSON object\)$/,
    ],
    [
      'an output schema no model can be sent',
      { output: z.object({ when: z.date() }) },
      /^agent "forecaster": output cannot be sent to a model: /,
    ],
    [
      'an output schema beside a tool named answer',
      { output: z.object({ text: z.string() }), tools: [tool({ name: 'answer' })] },
      /^agent "forecaster" has an output schema, which may bring its own tool "answer": rename the agent's tool "answer"$/,
    ],
    [
      'a structuredOutput that is not a boolean',
      { structuredOutput: 'no' as never },
      /^agent "forecaster": structuredOutput must be true or false$/,
    ],
    [
      'approval tools that is not a list',
      { approval: { tools: 'weather' as never } },
      /agent "forecaster": approval\.tools must be a list of tool names, not "weather"/,
    ],
  ])('rejects %s', (_case, overrides, message) => {
    expect(definitionError(() => agent(overrides)).message).toMatch(message);
  });

  it.each<[string, Record<string, unknown>, string]>([
    [
      'a misspelt option',
      { instruction: 'Answer.' },
      'agent "forecaster": unknown option "instruction" (did you mean "instructions"?)',
    ],
    [
      'an option with no near name, listing the known ones',
      { temperature: 0.2 },
      'agent "forecaster": unknown option "temperature"; known options: name, description, instructions, model, tools, agents, limits, approval, fallbackModels, contextWindowTokens, memory, memoryScope, localActivities, mcpServers, modelSettings, output, structuredOutput, handoffs',
    ],
    [
      'a misspelt name, on an agent without one',
      { name: undefined, nmae: 'forecaster' },
      'agent without a name: unknown option "nmae" (did you mean "name"?)',
    ],
    [
      'a misspelt approval list',
      { approval: { tool: ['weather'] } },
      'agent "forecaster": unknown approval option "tool" (did you mean "tools"?)',
    ],
    [
      'a shortened approval timeout',
      { approval: { timeout: 60 } },
      'agent "forecaster": unknown approval option "timeout" (did you mean "timeoutSeconds"?)',
    ],
    [
      'a misspelt limit',
      { limits: { maxStep: 3 } },
      'agent "forecaster" limits: unknown limit "maxStep" (did you mean "maxSteps"?)',
    ],
    [
      'a shortened limit',
      { limits: { maxDuration: 60 } },
      'agent "forecaster" limits: unknown limit "maxDuration" (did you mean "maxDurationSeconds"?)',
    ],
  ])('rejects %s, naming it', (_case, overrides, message) => {
    expect(definitionError(() => agent(overrides as Partial<AgentConfig>)).message).toBe(message);
  });

  it('accepts every option it knows, each with a valid value, and keeps them', () => {
    const options: Partial<AgentConfig> = {
      description: 'Weather answers',
      model: 'gpt-4.1',
      limits: {
        maxSteps: 5,
        maxTokens: 1_000,
        maxCostUsd: 0.1,
        maxDurationSeconds: 60,
        maxRepeats: 4,
        maxToolCallsPerTurn: 8,
        maxOutputRepairs: 3,
        lifetime: { maxSteps: 500, maxCostUsd: 5 },
      },
      approval: { tools: ['weather'], timeoutSeconds: 300 },
      fallbackModels: ['gpt-4o-mini'],
      localActivities: ['model', 'tools'],
      modelSettings: { reasoning_effort: 'high', temperature: 0, top_p: 1, max_completion_tokens: 4_096, seed: 42 },
      output: z.object({ forecast: z.string() }),
      structuredOutput: false,
    };
    expect(agent(options)).toMatchObject({ kind: 'agent', name: 'forecaster', ...options });
  });

  it.each([
    ['an unknown setting', { temprature: 0.2 }, 'Unrecognized key: "temprature"'],
    ['a temperature past 2', { temperature: 3 }, 'temperature'],
    ['an effort no model knows', { reasoning_effort: 'extreme' }, 'reasoning_effort'],
    ['a cap that is no whole number', { max_completion_tokens: 1.5 }, 'max_completion_tokens'],
    ['an unbounded cap', { max_completion_tokens: 1e12 }, 'max_completion_tokens'],
    ['five stop sequences', { stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    ['settings that are no object', 'hot', 'modelSettings'],
  ])('rejects modelSettings with %s, naming it', (_case, modelSettings, named) => {
    const message = definitionError(() => agent({ modelSettings } as unknown as Partial<AgentConfig>)).message;
    expect(message).toMatch(/^agent "forecaster" modelSettings: /);
    expect(message).toContain(named);
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
  const specSettings = {
    contextWindows: buildContextWindows('{"local-llama": 8000}'),
    contextCompactAt: 0.75,
    continueAsNewAtBytes: 8_000_000,
    historyLimitBytes: 40_000_000,
  };
  const specOptions = {
    defaultModel: 'm',
    modelCall,
    transcriptMaxBytes: 1_000,
    prices: DEFAULT_PRICES,
    ...specSettings,
  };
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
  const byArguments = tool({ name: 'by_arguments', requiresApproval: (args) => args.city === 'Paris' });
  const definition = agent({ tools: [plain, gated, slow, byAgent, byArguments], approval: { tools: ['by_agent'] } });
  const spec = resolveSpec(definition, {
    defaultModel: 'default-model',
    modelCall,
    transcriptMaxBytes: 500_000,
    prices: DEFAULT_PRICES,
    ...specSettings,
  });
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
    expect(spec.tools.map((t) => t.name)).toEqual(['plain', 'gated', 'slow', 'by_agent', 'by_arguments']);
    expect(toolSpec('plain').parameters).toEqual(toolParameters(plain));
  });

  it('records an output schema as JSON Schema, strict where OpenAI takes it, asked as the agent or worker says', () => {
    const options = specOptions;
    const closed = z.object({ refundId: z.string(), lines: z.array(z.object({ sku: z.string() })) });
    expect(resolveSpec(agent({ output: closed }), options).output).toEqual({
      name: 'forecaster',
      schema: {
        type: 'object',
        properties: {
          refundId: { type: 'string' },
          lines: {
            type: 'array',
            items: {
              type: 'object',
              properties: { sku: { type: 'string' } },
              required: ['sku'],
              additionalProperties: false,
            },
          },
        },
        required: ['refundId', 'lines'],
        additionalProperties: false,
      },
      strict: true,
      mode: 'response_format',
    });
    // An optional field is outside strict mode: sent with strict false, still checked by the run.
    const open = agent({ output: z.object({ note: z.string().optional() }) });
    expect(resolveSpec(open, options).output).toMatchObject({ strict: false, mode: 'response_format' });
    expect(resolveSpec(open, { ...options, structuredOutput: false }).output).toMatchObject({ mode: 'answer_tool' });
    expect(
      resolveSpec(agent({ output: closed, structuredOutput: true }), { ...options, structuredOutput: false }).output,
    ).toMatchObject({ mode: 'response_format' });
    // Agents without one record none, as specs did before.
    expect(resolveSpec(agent({}), options)).not.toHaveProperty('output');
  });

  it('takes limits and approval timeout from the agent', () => {
    const custom = resolveSpec(agent({ limits: { maxSteps: 4 }, approval: { timeoutSeconds: 60 } }), specOptions);
    expect(custom.limits).toEqual({ maxSteps: 4 });
    expect(custom.approvalTimeoutSeconds).toBe(60);
    expect(custom.transcriptMaxBytes).toBe(1_000);
  });

  it.each([
    ['plain', false],
    ['gated', true],
    ['slow', false],
    ['by_agent', true],
    ['by_arguments', true],
  ])('requiresApproval of %s is %s (from the tool or the agent approval list)', (name, expected) => {
    expect(toolSpec(name).requiresApproval).toBe(expected);
  });

  it('records that a tool decides approval by its arguments, and only for such a tool', () => {
    expect(toolSpec('by_arguments').approvalByArguments).toBe(true);
    for (const name of ['plain', 'gated', 'slow', 'by_agent'])
      expect(toolSpec(name)).not.toHaveProperty('approvalByArguments');
  });

  it('converts timeouts to milliseconds, defaulting to 60s', () => {
    expect(toolSpec('slow')).toMatchObject({
      startToCloseTimeoutMs: 10_000,
      heartbeatTimeoutMs: 2_500,
      taskQueue: 'private',
    });
    expect(toolSpec('plain').startToCloseTimeoutMs).toBe(60_000);
    // Every tool heartbeats through the worker, so a dead worker's call is retried after 10 s, not 60.
    expect(toolSpec('plain').heartbeatTimeoutMs).toBe(10_000);
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
      prices: DEFAULT_PRICES,
      ...specSettings,
    });
    expect(resolved.model).toBe(expected);
  });

  it('takes fallback models from the run, else the agent, with the prices of those that have one', () => {
    const options = { ...specOptions, defaultModel: 'gpt-4o' };
    const fromAgent = resolveSpec(agent({ fallbackModels: ['gpt-4o-mini', 'local-llama'] }), options);
    expect(fromAgent.fallbackModels).toEqual(['gpt-4o-mini', 'local-llama']);
    expect(fromAgent.prices).toEqual({
      'gpt-4o': DEFAULT_PRICES['gpt-4o'],
      'gpt-4o-mini': DEFAULT_PRICES['gpt-4o-mini'],
    });
    const fromRun = resolveSpec(agent({ fallbackModels: ['gpt-4o-mini'] }), {
      ...options,
      fallbackModels: ['o4-mini'],
    });
    expect(fromRun.fallbackModels).toEqual(['o4-mini']);
    expect(resolveSpec(agent({}), options).fallbackModels).toEqual([]);
  });
  it("records the run's context window: the agent's own, else the smallest known among its models", () => {
    const options = { defaultModel: 'gpt-4o-2024-08-06', modelCall, transcriptMaxBytes: 1_000, prices: DEFAULT_PRICES };
    const dated = resolveSpec(agent({}), { ...options, ...specSettings });
    expect(dated).toMatchObject({ contextWindowTokens: 128_000, compactAtTokens: 96_000 });
    const withFallback = resolveSpec(agent({ fallbackModels: ['local-llama'] }), { ...options, ...specSettings });
    expect(withFallback).toMatchObject({ contextWindowTokens: 8_000, compactAtTokens: 6_000 });
    const own = resolveSpec(agent({ contextWindowTokens: 6_000 }), { ...options, ...specSettings });
    expect(own).toMatchObject({ contextWindowTokens: 6_000, compactAtTokens: 4_500 });
    const unknown = resolveSpec(agent({ model: 'my-finetune' }), { ...options, ...specSettings });
    expect(unknown.contextWindowTokens).toBeUndefined();
    expect(unknown.compactAtTokens).toBeUndefined();
    expect(unknown.continueAsNewAtBytes).toBe(8_000_000);
  });

  it('runs calls as local activities as the tool, else the agent, else the worker says; never a tool on its own task queue', () => {
    const options = specOptions;
    const tools = [
      tool({ name: 'plain' }),
      tool({ name: 'never', local: false }),
      tool({ name: 'always', local: true }),
      tool({ name: 'routed', taskQueue: 'private' }),
    ];
    const locality = (spec: ReturnType<typeof resolveSpec>) => ({
      model: spec.modelCall.local ?? false,
      tools: Object.fromEntries(spec.tools.map((t) => [t.name, t.local ?? false])),
    });
    expect(locality(resolveSpec(agent({ tools }), options))).toEqual({
      model: false,
      tools: { plain: false, never: false, always: true, routed: false },
    });
    expect(locality(resolveSpec(agent({ tools }), { ...options, localActivities: ['model', 'tools'] }))).toEqual({
      model: true,
      tools: { plain: true, never: false, always: true, routed: false },
    });
    const modelOnly = agent({ tools, localActivities: ['model'] });
    expect(locality(resolveSpec(modelOnly, { ...options, localActivities: ['tools'] }))).toEqual({
      model: true,
      tools: { plain: false, never: false, always: true, routed: false },
    });
    // Specs of regular calls stay as they were recorded before the fast path existed.
    const regular = resolveSpec(agent({ tools }), options);
    expect(regular.modelCall).toEqual(modelCall);
    expect(Object.hasOwn(regular.tools[0], 'local')).toBe(false);
  });

  it("records memory with its scope, the agent's own unless it opts into the shared one; nothing without memory", () => {
    const settings = { defaultModel: 'm', modelCall, transcriptMaxBytes: 1_000, prices: DEFAULT_PRICES };
    const memoryOf = (config: Partial<AgentConfig>) => {
      const { memory, memoryScope } = resolveSpec(agent(config), { ...settings, ...specSettings });
      return { memory, memoryScope };
    };
    expect(memoryOf({ memory: true })).toEqual({ memory: true, memoryScope: 'agent' });
    expect(memoryOf({ memory: true, memoryScope: 'agent' })).toEqual({ memory: true, memoryScope: 'agent' });
    expect(memoryOf({ memory: true, memoryScope: 'shared' })).toEqual({ memory: true, memoryScope: 'shared' });
    // Specs of agents without memory stay as they were recorded before memory existed.
    for (const memory of [undefined, false]) {
      const spec = resolveSpec(agent({ memory }), { ...settings, ...specSettings });
      expect(Object.hasOwn(spec, 'memory') || Object.hasOwn(spec, 'memoryScope')).toBe(false);
    }
  });

  it('refuses localActivities that name anything but model and tools, once each', () => {
    for (const localActivities of ['model', ['models'], ['model', 'model'], [true]]) {
      expect(definitionError(() => agent({ localActivities } as unknown as Partial<AgentConfig>)).message).toMatch(
        /localActivities must list "model", "tools", both or neither/,
      );
    }
    expect(agent({ localActivities: [] }).localActivities).toEqual([]);
  });

  it('refuses a context window that is not a whole number of tokens', () => {
    for (const contextWindowTokens of [0, 999, 1.5, '8000']) {
      expect(definitionError(() => agent({ contextWindowTokens } as unknown as Partial<AgentConfig>)).message).toMatch(
        /contextWindowTokens must be a whole number of tokens/,
      );
    }
  });

  it('refuses a MODEL_CONTEXT_WINDOWS that is not a table of token counts', () => {
    expect(() => buildContextWindows('{"m": -1}')).toThrow(/MODEL_CONTEXT_WINDOWS/);
    expect(() => buildContextWindows('nope')).toThrow(/MODEL_CONTEXT_WINDOWS is not JSON/);
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

  it('takes one definition listed twice as one agent (sub-agents given inline), and refuses a second of its name', () => {
    expect(new AgentRegistry().add([alpha, alpha], 'mod.js').get('alpha')).toBe(alpha);
    expect(definitionError(() => new AgentRegistry().add([alpha, agent({ name: 'alpha' })], 'mod.js')).message).toMatch(
      /already defined by mod\.js/,
    );
  });

  it.each([
    ['a plain object', { name: 'raw', instructions: 'x', tools: [] }],
    ['undefined', undefined],
  ])('rejects %s that is not a defineAgent result, naming the source', (_case, entry) => {
    const error = definitionError(() => new AgentRegistry().add([entry as unknown as AgentDefinition], 'mod.js'));
    expect(error.message).toMatch(
      /^mod\.js: .* is neither a defineAgent\(\.\.\.\) nor a defineMcpServer\(\.\.\.\) result$/,
    );
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

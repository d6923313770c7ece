import { z } from 'zod';
import { defineAgent, type AgentConfig } from '../../src/agent';
import { Bounds, MAX_MEMORY_FACTS } from '../../src/defaults';
import { DefinitionError } from '../../src/errors';
import { defineTool } from '../../src/tool';
import { MemoryFacts, validateFactInput } from '../../workflows/memory-facts';
import { isMemoryTool, MEMORY_TOOLS } from '../../workflows/memory';
import { thrown } from '../support/thrown';

const toolNamed = (name: string) =>
  defineTool({
    name,
    description: `The agent's own ${name}`,
    input: z.object({ text: z.string() }),
    execute: () => 'ok',
  });

const agent = (overrides: Partial<AgentConfig>) =>
  defineAgent({ name: 'concierge', instructions: 'Help the guest.', tools: [], ...overrides });

const definitionError = (run: () => unknown) => thrown(DefinitionError, run);

describe('defineAgent with memory', () => {
  it('accepts memory: true or false', () => {
    expect(agent({ memory: true }).memory).toBe(true);
    expect(agent({ memory: false }).memory).toBe(false);
  });

  it.each(['yes', 1, null, {}])('rejects memory: %j, which is not a boolean', (memory) => {
    expect(definitionError(() => agent({ memory: memory as unknown as boolean })).message).toBe(
      `agent "concierge": memory must be true or false, not ${JSON.stringify(memory)}`,
    );
  });

  it.each(['remember', 'forget'])('rejects memory: true with a tool of its own named %s', (name) => {
    expect(definitionError(() => agent({ memory: true, tools: [toolNamed(name)] })).message).toBe(
      `agent "concierge" has memory, which brings its own tool "${name}": rename the agent's tool "${name}"`,
    );
    // Without memory the names are free.
    expect(agent({ tools: [toolNamed(name)] }).tools).toHaveLength(1);
  });

  it('names the option meant by a typo', () => {
    const config = { name: 'concierge', instructions: 'Help.', tools: [], memroy: true } as unknown as AgentConfig;
    expect(definitionError(() => defineAgent(config)).message).toMatch(
      /unknown option "memroy" \(did you mean "memory"\?\)/,
    );
  });
});

describe('the memory tools', () => {
  it('are remember and forget, each taking one string fact', () => {
    expect(MEMORY_TOOLS.map((tool) => tool.name)).toEqual(['remember', 'forget']);
    for (const tool of MEMORY_TOOLS) {
      expect(tool.description.length).toBeGreaterThan(40);
      expect(tool.parameters).toMatchObject({
        type: 'object',
        properties: { fact: { type: 'string' } },
        required: ['fact'],
        additionalProperties: false,
      });
    }
    expect(isMemoryTool('remember')).toBe(true);
    expect(isMemoryTool('forget')).toBe(true);
    expect(isMemoryTool('Remember')).toBe(false);
    expect(isMemoryTool('lookup_order')).toBe(false);
  });
});

describe("a user's facts", () => {
  const at = (minute: number) => `2025-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;

  it('are kept oldest first; the same fact (case and surrounding spaces aside) is refreshed, not stored twice', () => {
    const memory = new MemoryFacts();
    expect(memory.remember({ fact: 'Prefers French.' }, at(1))).toBe('remembered');
    expect(memory.remember({ fact: '  Has a cat.  ' }, at(2))).toBe('remembered');
    expect(memory.remember({ fact: 'PREFERS FRENCH.' }, at(3))).toBe('already remembered; refreshed');
    expect(memory.list()).toEqual([
      { text: 'Has a cat.', rememberedAt: at(2) },
      { text: 'PREFERS FRENCH.', rememberedAt: at(3) },
    ]);
  });

  it('forget removes a fact, ignoring case and surrounding spaces, and says whether it was there', () => {
    const memory = new MemoryFacts([{ text: 'Has a cat.', rememberedAt: at(1) }]);
    expect(memory.forget({ fact: 'has a dog.' })).toBe(false);
    expect(memory.forget({ fact: ' has a CAT. ' })).toBe(true);
    expect(memory.list()).toEqual([]);
    expect(memory.forget({ fact: 'Has a cat.' })).toBe(false);
  });

  it(`past ${MAX_MEMORY_FACTS} the oldest are forgotten`, () => {
    const memory = new MemoryFacts();
    for (let index = 1; index <= MAX_MEMORY_FACTS; index++) memory.remember({ fact: `fact ${index}` }, at(0));
    expect(memory.remember({ fact: 'one more' }, at(1))).toBe(
      `remembered; the oldest fact was forgotten (at most ${MAX_MEMORY_FACTS} are kept)`,
    );
    const texts = memory.list().map((fact) => fact.text);
    expect(texts).toHaveLength(MAX_MEMORY_FACTS);
    expect(texts[0]).toBe('fact 2');
    expect(texts.at(-1)).toBe('one more');
    // Facts carried over beyond the limit (a worker with a larger one) keep the newest.
    const carried = new MemoryFacts(
      Array.from({ length: 5 }, (_, index) => ({ text: `old ${index}`, rememberedAt: at(index) })),
      3,
    );
    expect(carried.list().map((fact) => fact.text)).toEqual(['old 2', 'old 3', 'old 4']);
  });

  it.each<[string, unknown, string]>([
    ['an empty fact', { fact: '' }, 'fact: must not be empty'],
    ['a blank fact', { fact: '   ' }, 'fact: must not be empty'],
    ['no fact', {}, 'fact: Invalid input: expected string, received undefined'],
    ['a number', { fact: 42 }, 'fact: Invalid input: expected string, received number'],
    [
      'an oversize fact',
      { fact: 'é'.repeat(Bounds.memoryFactBytes) },
      `fact: must be at most ${Bounds.memoryFactBytes} bytes (is ${2 * Bounds.memoryFactBytes + 2})`,
    ],
    ['an unknown field', { fact: 'ok', pin: 1234 }, '(input): Unrecognized key: "pin"'],
  ])('refuse %s in remember and forget', (_label, input, message) => {
    expect(() => validateFactInput(input)).toThrow(message);
  });

  it('accept a fact of exactly the bound', () => {
    // The bound counts the JSON string, quotes included.
    expect(() => validateFactInput({ fact: 'a'.repeat(Bounds.memoryFactBytes - 2) })).not.toThrow();
    expect(() => validateFactInput({ fact: 'a'.repeat(Bounds.memoryFactBytes - 1) })).toThrow(/at most/);
  });
});

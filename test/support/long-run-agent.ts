// A plug-in agent module for the long-run tests (test/integration/long-runs.test.ts) and the recorded
// histories (test/histories/record.ts): a tool that returns a page of a given size, in Latin or CJK
// text, an agent with memory and one with a small context window.
import type { PluginApi } from '../../src';

/** The page `fetch_page` returns: `chars` characters, different for every page number. */
export function pageText(page: number, chars: number, cjk: boolean): string {
  const prefix = `page ${page}: `;
  const fill = cjk ? '漢字かな交じり文'[page % 8] : String.fromCharCode(97 + (page % 26));
  return prefix + fill.repeat(Math.max(0, chars - prefix.length));
}

export default ({ defineAgent, defineTool, z }: PluginApi) => [
  defineAgent({
    name: 'pager',
    instructions: 'Read the pages you are asked to read, one at a time, then answer.',
    tools: [
      defineTool({
        name: 'fetch_page',
        description: 'Fetches one page of a long document.',
        input: z.object({ page: z.number().int().nonnegative(), chars: z.number().int().positive(), cjk: z.boolean() }),
        async execute({ page, chars, cjk }) {
          return pageText(page, chars, cjk);
        },
      }),
    ],
  }),
  defineAgent({
    name: 'concierge',
    instructions: 'You remember what your guests like.',
    memory: true,
    tools: [],
  }),
  defineAgent({
    name: 'notetaker',
    instructions: 'You talk with the user at length and remember what they told you.',
    contextWindowTokens: 6_000,
    tools: [],
  }),
];

/**
 * Records the histories of usage as billed and pacing (issue #27) into `v9-billed-usage/`, apart from
 * record.ts so features recorded at the same time do not share a folder: runs whose spec carries
 * `modelSettings` and a pacing allowance, whose answers report cached and reasoning tokens, one of
 * them paced by a provider's token reset and one stopped by `maxCostUsd` at the billed cost.
 * `npx tsx test/histories/record-billed-usage.ts`
 */
import { join } from 'node:path';
import { z } from 'zod';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { byTurn, reply } from '../../testing';
import { finishedRun, recordHistories } from './saved-histories';

const USAGE = { input: 1_200, cached: 1_000, output: 400, reasoning: 300 };

const agent = defineAgent({
  name: 'billed',
  instructions: 'Answer.',
  model: 'billed-model',
  tools: [
    defineTool({
      name: 'lookup',
      description: 'Looks an order up.',
      input: z.object({ id: z.string() }),
      execute: ({ id }) => ({ id, status: 'shipped' }),
    }),
  ],
  modelSettings: { reasoning_effort: 'low', temperature: 0.2, seed: 7, max_completion_tokens: 900 },
});

recordHistories({
  folder: join(__dirname, 'v9-billed-usage'),
  script: byTurn([
    // Little is left of the provider's tokens: the next call waits for the reset.
    {
      kind: 'message',
      toolCalls: [{ id: 'call_1', name: 'lookup', args: { id: '1043' } }],
      usage: USAGE,
      headers: { 'x-ratelimit-remaining-tokens': '100', 'x-ratelimit-reset-tokens': '1s' },
    },
    reply.text('Order 1043 has shipped.', USAGE),
  ]),
  workers: {
    worker: {
      env: {
        MODEL_PRICES: JSON.stringify({
          'billed-model': { inputPerMillion: 10, cachedInputPerMillion: 1, outputPerMillion: 1 },
        }),
      },
      registry: new AgentRegistry().add([agent], 'history'),
    },
  },
  scenarios: {
    'task-cached-reasoning-paced': finishedRun({ agent: 'billed', message: 'Where is order 1043?' }),
    'task-cost-limit-billed': finishedRun({
      agent: 'billed',
      message: 'Where is order 1043?',
      limits: { maxCostUsd: 0.01 },
    }),
  },
});

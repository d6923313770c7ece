/**
 * The agent metrics' label values are bounded (activities/metrics.ts, issue #21): a run's input names
 * any model its caller likes, and each distinct label value is a time series the worker keeps for as
 * long as it runs. Recorded here through a metric meter that keeps what it is given, as the worker's
 * meter would be in an activity.
 */
import { asyncLocalStorage, type Context } from '@temporalio/activity';
import type { MetricTags } from '@temporalio/common';
import {
  knownModels,
  OTHER_MODEL,
  recordModelCall,
  recordPacedWait,
  recordToolCall,
  ToolOutcome,
} from '../../activities/metrics';
import { defineAgent } from '../../src/agent';
import { buildContextWindows } from '../../src/context-windows';
import { buildPriceTable } from '../../src/pricing';
import { AgentRegistry } from '../../src/registry';

interface Recorded {
  metric: string;
  value: number;
  tags: MetricTags;
}

/** Runs `record` as inside an activity whose metric meter keeps every value and its labels. */
function recorded(record: () => void): Recorded[] {
  const kept: Recorded[] = [];
  const instrument = (metric: string) => ({
    add: (value: number, tags: MetricTags = {}) => kept.push({ metric, value, tags }),
    record: (value: number, tags: MetricTags = {}) => kept.push({ metric, value, tags }),
  });
  const metricMeter = { createCounter: instrument, createHistogram: instrument, createGauge: instrument };
  asyncLocalStorage.run({ metricMeter } as unknown as Context, record);
  return kept;
}

const registry = new AgentRegistry().add(
  [
    defineAgent({ name: 'support', instructions: 'Help.', tools: [], model: 'agent-model', fallbackModels: ['spare'] }),
    defineAgent({ name: 'plain', instructions: 'Help.', tools: [] }),
  ],
  'test',
);
const models = knownModels({
  registry,
  defaultModel: 'worker-default',
  prices: buildPriceTable(JSON.stringify({ 'priced-model': { inputPerMillion: 1, outputPerMillion: 2 } })),
  contextWindows: buildContextWindows(JSON.stringify({ 'windowed-model': 32_000 })),
});
const call = (model: string) => ({ model, inputTokens: 10, outputTokens: 2, costUsd: 0.001 });
const modelLabels = (records: Recorded[]) => [...new Set(records.map((record) => record.tags.model))];

describe('the model label', () => {
  it("keeps the models the worker knows: AGENT_MODEL, priced ones, ones with a context window, its agents' models and fallbacks", () => {
    for (const model of [
      'worker-default',
      'priced-model',
      'gpt-4o-mini',
      'windowed-model',
      'o3',
      'agent-model',
      'spare',
    ]) {
      expect(modelLabels(recorded(() => recordModelCall('support', call(model), models)))).toEqual([model]);
    }
  });

  it('is "other" for any model a caller names that the worker does not know: one series, however many names', () => {
    const records = recorded(() => {
      for (let index = 0; index < 1_000; index++) recordModelCall('support', call(`made-up-${index}`), models);
      // A dated or suffixed name of a known model is a new name all the same.
      recordModelCall('support', call('gpt-4o-mini-2099-01-01'), models);
    });
    expect(modelLabels(records)).toEqual([OTHER_MODEL]);
    // Every call still counts, with its tokens and cost.
    const calls = records.filter((record) => record.metric === 'agent_model_calls');
    expect(calls).toHaveLength(1_001);
    expect(records.filter((record) => record.metric === 'agent_tokens')).toHaveLength(2_002);
    expect(records.filter((record) => record.metric === 'agent_cost_usd')).toHaveLength(1_001);
  });
});

describe('estimated usage', () => {
  it('counts in agent_tokens like any, and again in agent_tokens_estimated', () => {
    const records = recorded(() => {
      recordModelCall('support', { ...call('agent-model'), usageEstimated: true }, models);
      recordModelCall('support', call('agent-model'), models);
    });
    const sum = (metric: string) =>
      records.filter((record) => record.metric === metric).reduce((total, record) => total + record.value, 0);
    expect(sum('agent_tokens')).toBe(24);
    expect(sum('agent_tokens_estimated')).toBe(12);
    expect(records.filter((record) => record.metric === 'agent_tokens_estimated').map((record) => record.tags)).toEqual(
      [
        { agent: 'support', model: 'agent-model', direction: 'input' },
        { agent: 'support', model: 'agent-model', direction: 'output' },
      ],
    );
  });
});

describe('agent_tokens by kind', () => {
  it('counts cached input and reasoning apart, as parts of their direction that sum to the totals', () => {
    const records = recorded(() =>
      recordModelCall(
        'support',
        { ...call('agent-model'), inputTokens: 1200, cachedInputTokens: 1000, outputTokens: 400, reasoningTokens: 300 },
        models,
      ),
    );
    const tokens = records.filter((record) => record.metric === 'agent_tokens');
    expect(tokens.map(({ value, tags }) => [tags.direction, tags.kind, value])).toEqual([
      ['input', 'input', 200],
      ['input', 'cached_input', 1000],
      ['output', 'output', 100],
      ['output', 'reasoning', 300],
    ]);
  });

  it('adds no cached or reasoning series for a call that reported neither: four kinds at most', () => {
    const records = recorded(() => recordModelCall('support', call('agent-model'), models));
    const kinds = records.filter((record) => record.metric === 'agent_tokens').map((record) => record.tags.kind);
    expect(kinds).toEqual(['input', 'output']);
  });
});

describe('agent_model_paced_seconds', () => {
  it('records the seconds a call waited, by agent, known model and limit', () => {
    const records = recorded(() => {
      recordPacedWait('support', 'agent-model', 'tokens', 2.1, models);
      recordPacedWait('support', 'made-up', 'requests', 0.5, models);
    });
    expect(records.map(({ metric, value, tags }) => [metric, value, tags])).toEqual([
      ['agent_model_paced_seconds', 2.1, { agent: 'support', model: 'agent-model', limit: 'tokens' }],
      ['agent_model_paced_seconds', 0.5, { agent: 'support', model: OTHER_MODEL, limit: 'requests' }],
    ]);
  });
});

describe('every label value', () => {
  it('is cut to 128 characters', () => {
    const long = 'x'.repeat(5_000);
    const records = recorded(() => {
      recordModelCall(long, call('worker-default'), new Set(['worker-default', long]));
      recordModelCall('support', call(long), new Set([long]));
      recordToolCall(long, long, ToolOutcome.ok);
    });
    const values = records.flatMap((record) => Object.values(record.tags));
    expect(Math.max(...values.map((value) => String(value).length))).toBe(128);
  });
});

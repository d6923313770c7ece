/**
 * A provider that is down hands the call to the next fallback model; one that refuses the request or
 * the credentials does not. 429s wait on a time budget of their own, apart from the 5xx attempts.
 */
import { reply } from '../../testing';
import { useScriptedWorker } from '../support/harness';
import { activitySummaries } from '../support/history';
import { runFailureOf } from '../support/outcomes';

// The last model that is down is retried for MODEL_UNAVAILABLE_SECONDS once its attempts are spent:
// 1 s here, so each model gets its 2 attempts and no more (test/integration/model-servers.test.ts waits longer).
const setup = useScriptedWorker({
  MODEL_MAX_ATTEMPTS: '2',
  MODEL_RATE_LIMIT_SECONDS: '4',
  MODEL_UNAVAILABLE_SECONDS: '1',
});

const requestsTo = (name: string) => setup.model.requests.filter((request) => request.model === name).length;
const input = { agent: 'helpdesk', message: 'Hello', model: 'primary', fallbackModels: ['backup', 'last-resort'] };

describe('model fallback', () => {
  it('a model that always answers 503 falls back to the next, which answers; usage counts under it', async () => {
    setup.script = (request) =>
      request.model === 'primary' ? reply.error(503, 'overloaded') : reply.text('From backup.');
    const handle = await setup.worker.start(input);
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'completed', output: 'From backup.', steps: 1 });
    expect(requestsTo('primary')).toBe(2);
    expect(requestsTo('backup')).toBe(1);
    expect(requestsTo('last-resort')).toBe(0);
    expect(result.usage.byModel).toEqual({
      backup: { calls: 1, inputTokens: 100, outputTokens: 20, totalTokens: 120, costUsd: 0 },
    });
    expect(await activitySummaries(handle)).toEqual(['model primary · step 1', 'model backup · step 1 · fallback']);
  });

  it('goes down the list until a model answers', async () => {
    setup.script = (request) =>
      request.model === 'last-resort' ? reply.text('From the last resort.') : reply.error(502, 'bad gateway');
    const result = await (await setup.worker.start(input)).result();
    expect(result).toMatchObject({ status: 'completed', output: 'From the last resort.' });
    expect([requestsTo('primary'), requestsTo('backup'), requestsTo('last-resort')]).toEqual([2, 2, 1]);
  });

  it('a 401 does not fall back: the run fails with ModelAuthError', async () => {
    setup.script = (request) => (request.model === 'primary' ? reply.error(401, 'invalid api key') : reply.text('no'));
    const failure = await runFailureOf(await setup.worker.start(input));
    expect(failure.type).toBe('ModelAuthError');
    expect(requestsTo('primary')).toBe(1);
    expect(requestsTo('backup')).toBe(0);
  });

  it('when every model fails, the run fails with the last failure', async () => {
    setup.script = () => reply.error(503, 'overloaded');
    const failure = await runFailureOf(await setup.worker.start(input));
    expect(failure.type).toBe('ModelUnavailable');
    expect([requestsTo('primary'), requestsTo('backup'), requestsTo('last-resort')]).toEqual([2, 2, 2]);
  });
});

describe('429s', () => {
  it('are retried past the 5xx attempts, after the delay the provider asks for', async () => {
    setup.script = (_request, index) =>
      index < 3 ? reply.error(429, 'slow down', { 'retry-after-ms': '200' }) : reply.text('Finally.');
    const result = await (await setup.worker.start({ agent: 'helpdesk', message: 'Hello', model: 'primary' })).result();
    expect(result).toMatchObject({ status: 'completed', output: 'Finally.' });
    // Four calls on a model allowed two attempts for 5xx; each waited the 200 ms asked for.
    expect(requestsTo('primary')).toBe(4);
    const gaps = setup.model.requests
      .slice(1)
      .map((request, index) => request.receivedAt - setup.model.requests[index].receivedAt);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(200);
  });

  it('past their time budget fall back to the next model', async () => {
    setup.script = (request) =>
      request.model === 'primary'
        ? reply.error(429, 'slow down', { 'retry-after-ms': '500' })
        : reply.text('From backup.');
    const started = Date.now();
    const result = await (await setup.worker.start(input)).result();
    expect(result).toMatchObject({ status: 'completed', output: 'From backup.' });
    // MODEL_RATE_LIMIT_SECONDS=4: tries at least half a second apart for about 4 s, then the fallback.
    expect(requestsTo('primary')).toBeGreaterThan(2);
    expect(requestsTo('primary')).toBeLessThanOrEqual(9);
    const primaryTimes = setup.model.requests.filter((request) => request.model === 'primary').map((r) => r.receivedAt);
    expect(primaryTimes.at(-1)! - primaryTimes[0]).toBeGreaterThanOrEqual(3_000);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

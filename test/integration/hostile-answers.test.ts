/**
 * Hostile and enormous model answers against a real worker process: an endpoint that never ends its
 * body cannot grow the worker's memory, a long answer in tiny chunks cannot stall the worker's other
 * calls, and a long answer within the payload bound completes in one attempt.
 */
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { WorkflowType } from '../../src/contract';
import { Bounds } from '../../src/defaults';
import { ErrorType } from '../../src/errors';
import type { agentRun } from '../../workflows';
import { lastOf, reply, turnOf, type Script } from '../../testing';
import { effectsSetup, jsonLines } from '../support/effects';
import { eventually } from '../support/eventually';
import { runFailureOf } from '../support/outcomes';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const processes = useWorkerProcesses();

/** The peak resident memory of process `pid`, in bytes (Linux). */
function peakRssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m);
  if (!line) throw new Error(`no VmHWM for process ${pid}`);
  return Number(line[1]) * 1024;
}

/** A worker process of the effects agent on a model that answers `long` messages by `onLong`. */
async function workerAnswering(onLong: Script, env: Record<string, string> = {}) {
  const setup = await effectsSetup(processes, { EFFECT_DELAY_MS: '15000', ...env });
  const model = await processes.startModel((request, index) => {
    if (lastOf(request, 'user')?.content.startsWith('long')) return onLong(request, index);
    return turnOf(request) === 0
      ? reply.tools([{ id: 'effect', name: 'record_effect', args: { name: 'refund' } }])
      : reply.text('Recorded.');
  });
  const worker = processes.spawn({ ...setup.env, OPENAI_BASE_URL: model.baseUrl });
  await waitUntilPolling(worker);
  const start = (message: string) =>
    processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
      taskQueue: setup.env.TASK_QUEUE,
      workflowId: `answers-${randomUUID()}`,
      args: [{ agent: 'effects', message }],
    });
  return { ...setup, model, worker, start };
}

describe('a model answer', () => {
  it.each([
    ['streamed', 'true'],
    ['unstreamed', 'false'],
  ])(
    'that never ends (%s request) fails its call typed, not retried; the worker stays small',
    async (_name, streaming) => {
      const { model, worker, start } = await workerAnswering(() => reply.endless(), {
        MODEL_STREAMING: streaming,
        MODEL_TIMEOUT_SECONDS: '20',
      });
      const failure = await runFailureOf(await start('long answer please'));
      expect(failure.type).toBe(ErrorType.ModelBadResponse);
      expect(failure.message).toContain(`the answer passed ${Bounds.payloadBytes} bytes`);
      expect(model.requests).toHaveLength(1);
      expect(peakRssBytes(worker.child.pid!)).toBeLessThan(1024 ** 3);
    },
  );

  it('of 300 KB, streamed in 4-byte pieces (11 MB of events), completes in one attempt', async () => {
    const pieces = Array.from({ length: 75_000 }, (_, index) => String(index % 10_000).padStart(4, '0'));
    const { model, start } = await workerAnswering(() => reply.streamed(pieces));
    const result = await (await start('long answer please')).result();
    expect(result.output).toBe(pieces.join(''));
    expect(model.requests).toHaveLength(1);
  });

  it('of 1 MB in 4-byte chunks does not stall the worker: a tool beside it keeps its heartbeats and runs once', async () => {
    const pieces = Array.from({ length: 262_144 }, (_, index) => String(index % 10_000).padStart(4, '0'));
    const { effects, start } = await workerAnswering(() => reply.streamed(pieces));
    // The tool takes 15 s, heartbeating each second under a 10 s heartbeat timeout.
    const tool = await start('Record the refund.');
    await eventually(() => jsonLines(`${effects}.attempts`).length === 1, 'the tool to start');
    const long = await start('long answer please');
    expect((await long.result()).output).toBe(pieces.join(''));
    expect((await tool.result()).output).toBe('Recorded.');
    expect(jsonLines(`${effects}.attempts`)).toHaveLength(1);
  }, 120_000);
});

/**
 * What a worker process says about the model server it calls (issue #24): one line per failed attempt
 * whatever the server sends, once per model that its endpoint reports no usage, once that a model's
 * answer overran the cap sent in a field it ignores, and each context window it read from the server.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowType } from '../../src/contract';
import { reply, serverProfiles, type ScriptedModel } from '../../testing';
import type { agentRun } from '../../workflows';
import { eventually } from '../support/eventually';
import { workerEnv } from '../support/harness';
import { waitUntilPolling, type WorkerProcess } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const processes = useWorkerProcesses();

const lines = (worker: WorkerProcess, pattern: RegExp) =>
  worker
    .output()
    .split('\n')
    .filter((line) => pattern.test(line));

async function run(worker: { env: Record<string, string> }, message: string, limits?: object) {
  const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
    taskQueue: worker.env.TASK_QUEUE,
    workflowId: `model-server-logs-${randomUUID()}`,
    args: [{ agent: 'helpdesk', message, ...(limits && { limits }) }],
  });
  return handle.result();
}

describe("a worker's log of a model server's ways", () => {
  it('llama-cpp-python: a multi-line 500 is one line; no usage and an ignored cap are each said once', async () => {
    let failedOnce = false;
    const model: ScriptedModel = await processes.startModel(
      (request) => {
        if (request.maxCompletionTokens !== undefined) return reply.streamed(Array(4_000).fill('word '));
        if (!failedOnce) {
          failedOnce = true;
          return reply.error(500, 'upstream broke:\n  line two\n\n  line three');
        }
        return reply.text('Hello.');
      },
      { profile: serverProfiles.llamaCppPython() },
    );
    const env = workerEnv({ OPENAI_BASE_URL: model.baseUrl, AGENT_MODEL: 'local-model' });
    const worker = processes.spawn(env);
    await waitUntilPolling(worker);

    expect(await run({ env }, 'hi')).toMatchObject({ status: 'completed', output: 'Hello.' });
    expect(await run({ env }, 'hi again')).toMatchObject({ status: 'completed' });
    // Calls capped by a maxTokens budget, twice: the overrun is learned (and said) once.
    const capped = await run({ env }, 'everything', { maxTokens: 2_000 });
    expect(capped.output.length).toBeLessThan(4_000 * 'word '.length);
    await run({ env }, 'everything again', { maxTokens: 2_000 });

    await eventually(() => lines(worker, /reports no usage/).length > 0, 'the no-usage line');
    expect(lines(worker, /model call failed \(attempt 1\/5, step 1, local-model, /)).toEqual([
      expect.stringMatching(/model endpoint answered 500: upstream broke: line two line three$/),
    ]);
    expect(lines(worker, /reports no usage/)).toEqual([
      expect.stringContaining(
        'model local-model at ' + model.baseUrl + ' reports no usage: its calls are counted by estimate',
      ),
    ]);
    expect(lines(worker, /answered past the \d+-token cap/)).toEqual([
      expect.stringMatching(/model local-model at \S+ answered past the \d+-token cap sent as max_completion_tokens: /),
    ]);
  }, 120_000);

  it("llama-server: the context window it reports at /props, in the worker's first lines", async () => {
    const model = await processes.startModel(() => reply.text('Hi.'), {
      profile: serverProfiles.llamaServer({ window: 16_384 }),
    });
    const worker = processes.spawn(workerEnv({ OPENAI_BASE_URL: model.baseUrl, AGENT_MODEL: 'qwen2.5-coder' }));
    await waitUntilPolling(worker);
    expect(lines(worker, /context window/)).toEqual([
      expect.stringMatching(
        /\[INFO\] model qwen2\.5-coder: context window 16384 tokens \(llama-server \/props n_ctx\)$/,
      ),
    ]);
  }, 90_000);
});

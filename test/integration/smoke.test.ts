import { reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { startTestWorker, type TestWorker } from '../support/harness';

describe('smoke: a run through the real dev server and a real worker', () => {
  let model: ScriptedModel;
  let worker: TestWorker;

  beforeAll(async () => {
    model = await startScriptedModel(() => reply.text('Hello from the scripted model.', { input: 12, output: 7 }));
    worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
  });
  afterAll(async () => {
    await worker?.stop();
    await model?.close();
  });

  it('completes a one-step run with the model answer as output', async () => {
    const handle = await worker.start({ agent: 'helpdesk', message: 'Hi!' });
    const result = await handle.result();
    expect(result).toEqual({
      status: 'completed',
      output: 'Hello from the scripted model.',
      steps: 1,
      usage: {
        inputTokens: 12,
        outputTokens: 7,
        totalTokens: 19,
        costUsd: expect.any(Number),
        costKnown: true,
        byModel: {
          'gpt-4o-mini': { calls: 1, inputTokens: 12, outputTokens: 7, totalTokens: 19, costUsd: expect.any(Number) },
        },
      },
    });
    expect(model.requests).toHaveLength(1);
    expect(model.requests[0].messages.map((m) => m.role)).toEqual(['system', 'user']);
  });
});

/**
 * The bench's wait for a run's result ends: a run whose workflow task fails for good (here: a
 * workflow type no bundle exports) fails the bench, naming why, instead of holding it for ever.
 */
import { randomUUID } from 'node:crypto';
import { resultWithin } from '../../bench/support/run-deadline';
import { startTestWorker, type TestWorker } from '../support/harness';

let worker: TestWorker;

beforeAll(async () => {
  worker = await startTestWorker({ TASK_QUEUE: `deadline-${randomUUID()}`, UNKNOWN_AGENT_WAIT_SECONDS: '0' });
});
afterAll(async () => {
  await worker?.stop();
});

describe("the bench's deadline for one run", () => {
  it('fails a run whose workflow task keeps failing, with the failure', async () => {
    const handle = await worker.client.workflow.start('noSuchBenchWorkflow', {
      taskQueue: worker.config.TASK_QUEUE,
      workflowId: `deadline-${randomUUID()}`,
    });
    try {
      await expect(resultWithin(handle, 3_000)).rejects.toThrow(
        /^bench run deadline-\S+ did not end within 3 s: its workflow task failed: .*noSuchBenchWorkflow/,
      );
    } finally {
      await handle.terminate('test over');
    }
  });

  it("passes a run's own outcome through", async () => {
    const handle = await worker.start({ agent: 'no-such-agent', message: 'hi' });
    // The run fails at once (UNKNOWN_AGENT_WAIT_SECONDS=0): its failure, not the deadline's.
    await expect(resultWithin(handle, 60_000)).rejects.toMatchObject({
      cause: { type: 'UnknownAgent', message: expect.stringMatching(/^unknown agent "no-such-agent"/) },
    });
  });
});

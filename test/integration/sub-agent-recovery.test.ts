/**
 * A worker SIGKILLed while a sub-agent's paying tool runs (issue #25): the tool's call is retried on
 * the next worker with the same idempotency key, its effect lands once, and the root completes with
 * the sub-agent's one answer.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import { WorkflowType } from '../../src/contract';
import type { agentRun } from '../../workflows';
import { lastOf, reply, turnOf } from '../../testing';
import { EFFECTS_AGENT, jsonLines } from '../support/effects';
import { eventually } from '../support/eventually';
import { tempPath, workerEnv } from '../support/harness';
import { waitUntilPolling } from '../support/worker-process';
import { useWorkerProcesses } from '../support/worker-processes';

const { PendingActivityState } = temporal.api.enums.v1;
const DELEGATOR_AGENT = join(__dirname, '..', 'fixtures', 'delegator-agent.mjs');

const processes = useWorkerProcesses();

it('a worker killed during a sub-agent paying tool: one effect, one answer, the root completes', async () => {
  const model = await processes.startModel((request) => {
    const delegator = /Delegate/.test(request.messages[0].content as string);
    if (turnOf(request) > 0) return reply.text(delegator ? `Done: ${lastOf(request, 'tool')!.content}` : 'Recorded.');
    return delegator
      ? reply.tools([{ name: 'effects', args: { message: 'record the refund' } }])
      : reply.tools([{ id: 'effect', name: 'record_effect', args: { name: 'refund' } }]);
  });
  const effects = tempPath('effects.jsonl');
  const env = workerEnv({
    OPENAI_BASE_URL: model.baseUrl,
    AGENT_MODULES: `${EFFECTS_AGENT},${DELEGATOR_AGENT}`,
    EFFECTS_FILE: effects,
    EFFECT_DELAY_MS: '3000',
  });
  const first = processes.spawn(env);
  await waitUntilPolling(first);
  const handle = await processes.client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
    taskQueue: env.TASK_QUEUE,
    workflowId: `sub-agent-recovery-${randomUUID()}`,
    args: [{ agent: 'delegator', message: 'Have the refund recorded.' }],
  });
  const child = processes.client.workflow.getHandle(`${handle.workflowId}/1.1`);
  await eventually(async () => {
    const { raw } = await child.describe().catch(() => ({ raw: undefined }));
    return raw?.pendingActivities?.some(
      (pending) =>
        pending.activityType?.name === 'runTool' &&
        pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
    );
  }, "the sub-agent's tool to run");
  await eventually(() => jsonLines(effects).length > 0 || undefined, 'the effect to land');
  first.child.kill('SIGKILL');
  expect(await first.exited).toBe('SIGKILL');
  const second = processes.spawn(env);
  await waitUntilPolling(second);

  const result = await handle.result();
  expect(result).toMatchObject({ status: 'completed', output: 'Done: Recorded.' });
  const attempts = jsonLines<{ key: string; attempt: number }>(`${effects}.attempts`);
  expect(attempts.map((attempt) => attempt.attempt)).toEqual([1, 2]);
  expect(new Set(attempts.map((attempt) => attempt.key)).size).toBe(1);
  expect(attempts[0].key).toMatch(new RegExp(`^${handle.workflowId}/1\\.1/[0-9a-f-]+/1\\.1$`));
  expect(jsonLines(effects)).toHaveLength(1);
  // The sub-agent's run answered once: one child run, completed.
  expect((await child.describe()).status.name).toBe('COMPLETED');
}, 120_000);

/**
 * Determinism guard: every committed history (test/histories) must replay on the current workflow
 * code. A change that alters the command sequence of in-flight runs fails here; gate it with
 * `patched()` and record a new history beside the old ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { defaultPayloadConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { DROPPED_SPANS } from '../runtime/worker-tracing';
import { memoryWorkflowId, WorkflowType } from '../src/contract';
import type { UserMemoryInput } from '../src/types';

const HISTORIES = join(__dirname, 'histories');

/**
 * The workflow id to replay `history` under: a user's memory checks that its id is its user's, so it
 * replays under that id; a run that started sub-agents under its own, which their ids (`<id>/<call
 * id>`, recorded in history) begin with; any other run under its file's name.
 */
function recordedWorkflowId(history: ReturnType<typeof historyFromJSON>, file: string): string {
  const child = history.events?.find((event) => event.startChildWorkflowExecutionInitiatedEventAttributes)
    ?.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
  if (child) return child.slice(0, child.lastIndexOf('/'));
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  if (started?.workflowType?.name !== WorkflowType.userMemory) return file;
  const input = defaultPayloadConverter.fromPayload<UserMemoryInput>(started.input!.payloads![0]);
  return memoryWorkflowId(input.userId);
}
/** `v1/task-parallel-tools.json`, ...: one folder per recorded version of the workflow code. */
const files = readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.json'));

describe('committed workflow histories', () => {
  it('exist for the main scenarios', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'v1/task-parallel-tools.json',
        'v1/session-chat-signal-approval.json',
        'v1/task-approval-timeout.json',
      ]),
    );
  });

  it.each(files)('%s replays without nondeterminism', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES, file), 'utf8')));
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! }, sinks: DROPPED_SPANS },
        history,
        recordedWorkflowId(history, file),
      ),
    ).resolves.toBeUndefined();
  });
});

/**
 * Determinism guard: every committed history (test/histories) must replay on the current workflow
 * code. A change that alters the command sequence of in-flight runs fails here; gate it with
 * `patched()` and record a new history beside the old ones.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

const HISTORIES = join(__dirname, 'histories');
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
      Worker.runReplayHistory({ workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } }, history, file),
    ).resolves.toBeUndefined();
  });
});

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
const files = readdirSync(HISTORIES).filter((file) => file.endsWith('.json'));

describe('committed workflow histories', () => {
  it('exist for the main scenarios', () => {
    expect(files).toEqual(
      expect.arrayContaining([
        'task-parallel-tools.json',
        'session-chat-signal-approval.json',
        'task-approval-timeout.json',
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

/**
 * Records the histories of handoffs into test/histories/v9-handoffs (`npx tsx
 * test/histories/record-handoffs.ts`), on a fresh dev server: a task handed from triage to billing, one
 * that continues as new after the handoff (every run of its chain), and a session that stays with
 * billing for its next turn. The replay test replays them with every other recorded history.
 */
import { join } from 'node:path';
import { chatUpdate, endSignal } from '../../src/contract';
import { handoffScript } from '../support/handoff-agents';
import { finishedRun, recordHistories } from './saved-histories';

recordHistories({
  folder: join(__dirname, 'v9-handoffs'),
  script: handoffScript,
  workers: {
    // Past 30 KB of history (half the limit) a run continues as new between steps.
    worker: {
      env: {
        AGENT_MODULES: 'test/support/handoff-agents.ts',
        CONTINUE_AS_NEW_AT_BYTES: '20000',
        HISTORY_LIMIT_BYTES: '60000',
      },
    },
  },
  scenarios: {
    'task-handoff': finishedRun({ agent: 'triage', message: 'invoice 7: was it paid?' }),
    'task-handoff-continues-as-new': finishedRun({ agent: 'triage', message: 'statement: read it all' }),
    'session-handoff': async (start) => {
      const handle = await start({ agent: 'triage', message: 'invoice 7?', mode: 'session' });
      await handle.executeUpdate(chatUpdate, { args: [{ text: 'what do I owe?' }] });
      await handle.signal(endSignal);
      await handle.result();
    },
  },
});

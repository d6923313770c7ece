/**
 * Records a task run cancelled before a worker took it (the cancel comes with its first workflow
 * task) into `v11-cancelled-at-start/`: with the `cancelled-at-start` change it ends cancelled. The
 * folder also holds the same run recorded before the change, when it ended failed
 * (`task-cancelled-at-start-failed.json`), which runs closed that way still replay as.
 * `npx tsx test/histories/record-cancelled-at-start.ts`
 */
import { join } from 'node:path';
import { reply } from '../../testing';
import { recordHistories } from './saved-histories';

recordHistories({
  folder: join(__dirname, 'v11-cancelled-at-start'),
  script: () => reply.text('Never asked.'),
  workers: { worker: {} },
  scenarios: {
    'task-cancelled-at-start': async (start) => {
      // The first workflow task waits out the delay: the cancel request comes with it.
      const handle = await start({ agent: 'helpdesk', message: 'Cancelled before it starts.' }, undefined, {
        startDelay: '2s',
      });
      await handle.cancel();
      return handle.result().catch(() => undefined);
    },
  },
});

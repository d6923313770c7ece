/**
 * Records a session whose first turn ends stuck and whose next message is answered (the
 * `stuck-session-turn-ends-turn` change) into `v10-session-stuck/`, apart from the other recorders:
 * before it, the session ended `stuck` (v8's `task-stuck` keeps the task's ending).
 * `npx tsx test/histories/record-session-stuck.ts`
 */
import { join } from 'node:path';
import { chatUpdate, endSignal } from '../../src/contract';
import { AgentRegistry } from '../../src/registry';
import { reply, type ModelRequest } from '../../testing';
import { looperAgent } from '../support/looper-agent';
import { recordHistories } from './saved-histories';

const thanked = (request: ModelRequest) => request.messages.some((message) => message.content === 'Thanks anyway.');

recordHistories({
  folder: join(__dirname, 'v10-session-stuck'),
  script: (request) =>
    thanked(request) ? reply.text('You are welcome.') : reply.tools([{ name: 'check_status', args: { job: 7 } }]),
  workers: { worker: { registry: new AgentRegistry().add([looperAgent()], 'history') } },
  scenarios: {
    'session-stuck-turn-then-answer': async (start) => {
      const handle = await start({ agent: 'looper', message: 'Is job 7 done?', mode: 'session' });
      // Taken once the stuck turn has ended: the session answers it.
      await handle.executeUpdate(chatUpdate, { args: [{ text: 'Thanks anyway.' }] });
      await handle.signal(endSignal);
      return handle.result();
    },
  },
});

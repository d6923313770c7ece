/**
 * Records the histories of handoffs into test/histories/v9-handoffs (`npx tsx
 * test/histories/record-handoffs.ts`), on a fresh dev server: a task handed from triage to billing, one
 * that continues as new after the handoff (every run of its chain), and a session that stays with
 * billing for its next turn. The replay test replays them with every other recorded history.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { WorkflowHandle } from '@temporalio/client';
import { chatUpdate, endSignal } from '../../src/contract';
import { startScriptedModel } from '../../testing';
import type { agentRun } from '../../workflows';
import { startDevServer, stopDevServer } from '../support/dev-server';
import { handoffScript } from '../support/handoff-agents';
import { startTestWorker } from '../support/harness';
import { saveChain } from './saved-histories';

type Handle = WorkflowHandle<typeof agentRun>;

const FOLDER = join(__dirname, 'v9-handoffs');

/** Each scenario drives one run (a chain) to its end; the workflow id names it. */
const scenarios: Record<string, (start: (input: object) => Promise<Handle>) => Promise<void>> = {
  'task-handoff': async (start) => {
    await (await start({ agent: 'triage', message: 'invoice 7: was it paid?' })).result();
  },
  'task-handoff-continues-as-new': async (start) => {
    await (await start({ agent: 'triage', message: 'statement: read it all' })).result();
  },
  'session-handoff': async (start) => {
    const handle = await start({ agent: 'triage', message: 'invoice 7?', mode: 'session' });
    await handle.executeUpdate(chatUpdate, { args: [{ text: 'what do I owe?' }] });
    await handle.signal(endSignal);
    await handle.result();
  },
};

async function main(): Promise<void> {
  if (existsSync(FOLDER)) throw new Error(`${FOLDER} exists: record into a new folder, keep the old histories`);
  mkdirSync(FOLDER);
  const server = await startDevServer();
  const model = await startScriptedModel(handoffScript);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_TMP_DIR = tmpdir();
  // Past 30 KB of history (half the limit) a run continues as new between steps.
  const worker = await startTestWorker({
    OPENAI_BASE_URL: model.baseUrl,
    WORKFLOW_BUNDLE: undefined,
    AGENT_MODULES: 'test/support/handoff-agents.ts',
    CONTINUE_AS_NEW_AT_BYTES: '20000',
    HISTORY_LIMIT_BYTES: '60000',
  });
  try {
    for (const [name, scenario] of Object.entries(scenarios)) {
      await scenario((input) => worker.start(input as never, `history-${name}`));
      saveChain(server.address, FOLDER, name, `history-${name}`);
    }
  } finally {
    await worker.stop();
    await model.close();
    await stopDevServer(server.process);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

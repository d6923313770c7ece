/**
 * Runs of the effects agent (test/fixtures/effects-agent.ts): one tool call whose effect lands outside
 * the run, in a file, once per idempotency key, then an answer. For the crash and drain tests.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { reply, turnOf } from '../../testing';
import { tempPath, workerEnv } from './harness';
import type { WorkerProcesses } from './worker-processes';

export const EFFECTS_AGENT = join(__dirname, '..', 'fixtures', 'effects-agent.ts');

/** The JSON lines of `file` (none if it does not exist yet). */
export function jsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/**
 * A scripted model that asks for `record_effect` once, then answers "Recorded.", and worker env for
 * the effects agent: its tool takes 3 s (`EFFECT_DELAY_MS`) unless `overrides` say otherwise.
 */
export async function effectsSetup(processes: WorkerProcesses, overrides: Record<string, string> = {}) {
  const model = await processes.startModel((request) =>
    turnOf(request) === 0
      ? reply.tools([{ id: 'effect', name: 'record_effect', args: { name: 'refund' } }])
      : reply.text('Recorded.'),
  );
  const effects = tempPath('effects.jsonl');
  const env = workerEnv({
    OPENAI_BASE_URL: model.baseUrl,
    AGENT_MODULES: EFFECTS_AGENT,
    EFFECTS_FILE: effects,
    EFFECT_DELAY_MS: '3000',
    ...overrides,
  });
  return { model, effects, env };
}

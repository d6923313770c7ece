/**
 * Writing recorded runs' histories as the replay test reads them: one JSON file per run, read back
 * from the dev server with the Temporal CLI (record.ts, and the recorders of single features beside it).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { temporalBinary } from '../support/dev-server';

/** Saves the history of every run of `workflowId` (oldest first) as `<name>.json`, or `<name>-<n>.json` for chains. */
export function saveChain(address: string, folder: string, name: string, workflowId: string): void {
  const temporal = (args: string[]) =>
    execFileSync(temporalBinary(), [...args, '--address', address, '-o', 'json'], { encoding: 'utf8' });
  const runs = (
    JSON.parse(temporal(['workflow', 'list', '--query', `WorkflowId = "${workflowId}"`])) as {
      execution: { runId: string };
      startTime: string;
    }[]
  ).sort((a, b) => a.startTime.localeCompare(b.startTime));
  runs.forEach(({ execution }, index) => {
    const path = join(folder, runs.length > 1 ? `${name}-${index + 1}.json` : `${name}.json`);
    writeFileSync(path, temporal(['workflow', 'show', '--workflow-id', workflowId, '--run-id', execution.runId]));
    console.log(`recorded ${path}`);
  });
}

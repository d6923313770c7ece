/**
 * The cluster test's verdict and report: the ledger checked against the runs (test/support/
 * ledger-verdict.ts: every run completed with its receipts, every payment once) and the fleet's
 * workers that exited on their own, the counts, and the table of each fault's recovery.
 */
import { readJsonLines, type Invocation } from '../chaos/chaos-agent';
import { judgeLedger } from '../support/ledger-verdict';
import type { RunPlan } from '../support/paying-runs';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** A fault and how the runs came back from it. */
export interface Recovery {
  what: string;
  at: number;
  openRuns: number;
  /** The part is back: the new worker polls, the restarted service or database answers. */
  backAt: number;
  /** Every run open at the fault has moved on (a new model or tool call, or its end) since. */
  recoveredAt?: number;
  slowestRun?: string;
  /** Model and tool calls tried again between the fault and the recovery: work the fault cut off. */
  retried: number;
}

/** Checks the ledger against the runs; prints the counts; returns what is wrong. */
export async function checkLedger(
  plans: RunPlan[],
  files: { ledger: string; invocations: string },
  unplannedExits: string[],
): Promise<string[]> {
  const verdict = await judgeLedger(
    plans,
    files.ledger,
    (run) => `${run.workflowId} did not finish (${run.startedAt ? 'started' : 'never started'})`,
  );
  const failures = [...verdict.failures];
  if (unplannedExits.length)
    failures.push(`${unplannedExits.length} worker(s) exited on their own:\n${unplannedExits.join('\n')}`);
  const invocations = readJsonLines<Invocation>(files.invocations);
  const executions = invocations.filter((line) => line.event === 'started');
  console.log(
    `\nruns: ${plans.filter((run) => run.status === 'COMPLETED').length}/${plans.length} completed; tool calls: ` +
      `${verdict.expected} expected, ${executions.length} executions (${executions.filter((line) => line.attempt > 1).length} ` +
      `retries), ${verdict.payments} payments, ${invocations.filter((line) => line.event === 'deduplicated').length} ` +
      `answered from the ledger; duplicated ${verdict.duplicated}, missing ${verdict.missing}`,
  );
  return failures;
}

export function printRecoveries(recoveries: Recovery[], upMs: number, limitMs: number): void {
  const rows = recoveries.map((r) => [
    r.what,
    String(r.openRuns),
    seconds(r.backAt - r.at),
    r.recoveredAt ? seconds(r.recoveredAt - r.at) : '—',
    String(r.retried),
  ]);
  const titles = ['fault', 'open runs', 'fault→back', 'fault→recovered', 'calls retried'];
  const widths = titles.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, column) => (column ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ')}`;
  console.log(`\ncluster up in ${seconds(upMs)}. recovery: back = the new worker polls / the restarted part answers;`);
  console.log(
    `recovered = every run open at the fault has moved on (a new model or tool call, or its end); limit ${limitMs / 1000} s`,
  );
  console.log(line(titles));
  for (const row of rows) console.log(line(row));
}

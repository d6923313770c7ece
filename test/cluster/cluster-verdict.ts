/**
 * The cluster test's verdict and report: its runs' plan and the payments they must have made, the
 * ledger checked against them (every run completed with its receipts, every payment once), and the
 * table of each fault's recovery.
 */
import type { AgentRunResult } from '../../src/types';
import { readJsonLines, type Invocation, type LedgerEntry } from '../chaos/chaos-agent';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One run: what its model asks for (tool calls per step, latency per turn), and what became of it. */
export interface RunPlan {
  index: number;
  workflowId: string;
  calls: number[];
  delays: number[];
  firstExecutionRunId?: string;
  startedAt?: number;
  closedAt?: number;
  status?: string;
  result?: AgentRunResult;
}

/** The arguments of a call: distinct for every call, so no run looks like a model repeating itself. */
export const argsOf = (run: number, step: number, call: number) => ({
  payee: `payee-${run}-${step}-${call}`,
  amountCents: 10_000 * (run + 1) + 100 * step + call,
});

/** The idempotency keys the run's calls must have, in call order. */
export function expectedKeys(run: RunPlan): { key: string; args: ReturnType<typeof argsOf> }[] {
  return run.calls.flatMap((count, turn) =>
    Array.from({ length: count }, (_, call) => ({
      key: `${run.workflowId}/${run.firstExecutionRunId}/${turn + 1}.${call + 1}`,
      args: argsOf(run.index, turn + 1, call + 1),
    })),
  );
}

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
export function checkLedger(
  plans: RunPlan[],
  files: { ledger: string; invocations: string },
  unplannedExits: string[],
): string[] {
  const failures: string[] = [];
  const check = (ok: boolean, message: string) => ok || failures.push(message);
  const ledger = readJsonLines<LedgerEntry>(files.ledger);
  const byKey = new Map<string, LedgerEntry[]>();
  for (const entry of ledger) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
  const expected = new Set<string>();
  for (const run of plans) {
    const keys = expectedKeys(run);
    keys.forEach(({ key }) => expected.add(key));
    if (!run.closedAt) {
      failures.push(`${run.workflowId} did not finish (${run.startedAt ? 'started' : 'never started'})`);
      continue;
    }
    check(run.status === 'COMPLETED', `${run.workflowId} ended ${run.status}`);
    if (run.status !== 'COMPLETED') continue;
    const receipts = keys.map(({ key }) => byKey.get(key)?.[0]?.receipt ?? `(no payment for ${key})`);
    const output = `run ${run.index} paid: ${receipts.join(' ')}`;
    check(run.result?.status === 'completed', `${run.workflowId}: result status ${run.result?.status}`);
    check(run.result?.output === output, `${run.workflowId}: output ${run.result?.output}, expected ${output}`);
    for (const { key, args } of keys) {
      const entry = byKey.get(key)?.[0];
      check(
        !entry || (entry.payee === args.payee && entry.amountCents === args.amountCents),
        `${key}: paid ${entry?.amountCents} to ${entry?.payee}, asked ${args.amountCents} to ${args.payee}`,
      );
    }
  }
  const duplicated = [...byKey].filter(([, entries]) => entries.length > 1);
  const missing = [...expected].filter((key) => !byKey.has(key));
  const unexpected = [...byKey.keys()].filter((key) => !expected.has(key));
  check(!duplicated.length, `duplicated payments: ${duplicated.map(([key, e]) => `${key} ×${e.length}`).join(', ')}`);
  check(!missing.length, `missing payments: ${missing.join(', ')}`);
  check(!unexpected.length, `payments for keys no call has: ${unexpected.join(', ')}`);
  check(ledger.length === expected.size, `ledger has ${ledger.length} payments, expected ${expected.size}`);
  check(
    !unplannedExits.length,
    `${unplannedExits.length} worker(s) exited on their own:\n${unplannedExits.join('\n')}`,
  );
  const invocations = readJsonLines<Invocation>(files.invocations);
  const executions = invocations.filter((line) => line.event === 'started');
  console.log(
    `\nruns: ${plans.filter((run) => run.status === 'COMPLETED').length}/${plans.length} completed; tool calls: ` +
      `${expected.size} expected, ${executions.length} executions (${executions.filter((line) => line.attempt > 1).length} ` +
      `retries), ${ledger.length} payments, ${invocations.filter((line) => line.event === 'deduplicated').length} ` +
      `answered from the ledger; duplicated ${duplicated.length}, missing ${missing.length}`,
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

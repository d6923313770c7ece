/**
 * The verdict on the paying runs' ledger (test/chaos/chaos-agent.ts), for the chaos and cluster tests:
 * every run completed with the receipts of its own payments, and every tool call paid exactly once,
 * none lost, none duplicated, none for a call no run made.
 */
import { readJsonLines, type LedgerEntry } from '../chaos/chaos-agent';
import { expectedKeys, type RunPlan } from './paying-runs';

export interface LedgerVerdict {
  /** What is wrong: empty when the runs and the ledger agree. */
  failures: string[];
  /** Payments the runs' tool calls must have made, one each. */
  expected: number;
  /** Payments the ledger holds. */
  payments: number;
  duplicated: number;
  missing: number;
}

/** Judges the ledger against the runs; `unfinished` words the failure of a run that never closed. */
export async function judgeLedger(
  plans: RunPlan[],
  ledgerFile: string,
  unfinished: (run: RunPlan) => string | Promise<string>,
): Promise<LedgerVerdict> {
  const failures: string[] = [];
  const check = (ok: boolean, message: string) => ok || failures.push(message);
  const ledger = readJsonLines<LedgerEntry>(ledgerFile);
  const byKey = new Map<string, LedgerEntry[]>();
  for (const entry of ledger) byKey.set(entry.key, [...(byKey.get(entry.key) ?? []), entry]);
  const expected = new Set<string>();
  for (const run of plans) {
    const keys = expectedKeys(run);
    keys.forEach(({ key }) => expected.add(key));
    if (!run.closedAt) {
      failures.push(await unfinished(run));
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
  return {
    failures,
    expected: expected.size,
    payments: ledger.length,
    duplicated: duplicated.length,
    missing: missing.length,
  };
}

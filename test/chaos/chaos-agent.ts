/**
 * The chaos test's plug-in agent (AGENT_MODULES): one side-effecting tool, `pay`, that records each
 * payment in a JSONL ledger keyed by the call's idempotency key and, like a real payments backend,
 * answers a key it has seen with the recorded payment instead of paying twice. It takes its time
 * after writing (heartbeating), so a worker killed then has paid but not yet reported it.
 *
 * Env: CHAOS_LEDGER (the ledger), CHAOS_INVOCATIONS (one line per execution, for the test's counts).
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PluginApi } from '../../src';

/** One payment in the ledger. */
export interface LedgerEntry {
  key: string;
  receipt: string;
  payee: string;
  amountCents: number;
  attempt: number;
  pid: number;
  at: number;
}

/** One execution of the tool: `started`, `paid` or `deduplicated`, then `returned`, as far as it got before a kill. */
export interface Invocation {
  key: string;
  event: 'started' | 'paid' | 'deduplicated' | 'returned';
  attempt: number;
  pid: number;
  at: number;
}

/** Parses a JSONL file, failing on a torn line (a write cut by a kill would show here). */
export function readJsonLines<T>(path: string): T[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, index) => {
      try {
        return JSON.parse(line) as T;
      } catch {
        throw new Error(`${path}:${index + 1} is not JSON: ${line}`);
      }
    });
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the chaos agent needs it`);
  return value;
}

const between = (min: number, max: number) => min + Math.random() * (max - min);

export default ({ defineAgent, defineTool, z }: PluginApi) => {
  const ledgerPath = requiredEnv('CHAOS_LEDGER');
  const invocationsPath = requiredEnv('CHAOS_INVOCATIONS');
  const record = (invocation: Invocation) => appendFileSync(invocationsPath, `${JSON.stringify(invocation)}\n`);

  const pay = defineTool({
    name: 'pay',
    description: 'Pay an amount to a payee; returns the receipt.',
    input: z.object({ payee: z.string(), amountCents: z.number().int().positive() }),
    timeout: '20s',
    heartbeatTimeout: '2s',
    // A payments call is worth more tries than the default 3: every crash or server restart costs one.
    retry: { maximumAttempts: 10, initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '2s' },
    async execute({ payee, amountCents }, ctx) {
      const { idempotencyKey: key, attempt } = ctx;
      record({ key, event: 'started', attempt, pid: process.pid, at: Date.now() });
      await sleep(between(0, 150));
      // Read and append in one synchronous stretch: no other call of this process interleaves.
      let entry = readJsonLines<LedgerEntry>(ledgerPath).find((candidate) => candidate.key === key);
      if (entry) {
        record({ key, event: 'deduplicated', attempt, pid: process.pid, at: Date.now() });
      } else {
        const at = Date.now();
        entry = { key, receipt: `r-${randomUUID().slice(0, 8)}`, payee, amountCents, attempt, pid: process.pid, at };
        appendFileSync(ledgerPath, `${JSON.stringify(entry)}\n`);
        record({ key, event: 'paid', attempt, pid: process.pid, at: entry.at });
      }
      // The bank takes its time to confirm: the payment is made but the activity not yet completed.
      const until = Date.now() + between(200, 800);
      while (Date.now() < until) {
        ctx.heartbeat();
        await sleep(Math.min(100, until - Date.now()));
      }
      record({ key, event: 'returned', attempt, pid: process.pid, at: Date.now() });
      return { receipt: entry.receipt, payee: entry.payee, amountCents: entry.amountCents };
    },
  });

  return [
    defineAgent({
      name: 'chaos',
      instructions: 'Make the payments the user asks for, then list the receipts.',
      tools: [pay],
    }),
  ];
};

/**
 * `npm run bench:history`: how a run's Temporal event history grows with its length. Task runs of
 * 20, 60 and 200 steps run one after another on a dev server and a worker, against an instant
 * scripted model: every step but the last is a model call that asks for one tool call, whose tool
 * returns a fixed-size result; the last step answers with text (so an N-step run makes N model calls
 * and N-1 tool calls). After each run the whole chain's history (every run of the workflow id, in case
 * it continued as new) is measured, next to the bytes of everything its conversation ever contained:
 * the UTF-8 bytes of the JSON of each message, as the scripted model first received it (the user
 * message, each assistant message, each tool result; not the system prompt), plus the final answer.
 * History bytes per step that stay flat as runs get longer mean linear growth; bytes per step that
 * grow with the length mean quadratic growth (each model call's input carrying the whole transcript).
 * A run that fails or is terminated (Temporal rejects payloads over ~2 MB and ends histories at
 * 50 MB) is reported as such, with the size it reached; a run still going after the timeout is
 * terminated by the bench. Results are also written to bench/results/history-<timestamp>.json.
 *
 * Env: BENCH_HISTORY_STEPS (default 20,60,200), BENCH_TOOL_RESULT_BYTES (default 20000),
 * BENCH_HISTORY_TIMEOUT_SECONDS (per run, default 600).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { DefaultLogger, Runtime, type LogEntry } from '@temporalio/worker';
import { z } from 'zod';
import { defineAgent } from '../src/agent';
import { DEFAULT_TOOL_RESULT_MAX_BYTES } from '../src/defaults';
import { WorkflowType } from '../src/contract';
import { defineTool } from '../src/tool';
import { reply, startAgentTest, startDevServer, stopDevServer, turnOf, type ModelRequest } from '../testing';
import type { agentRun } from '../workflows';
import { LATE, resultBy } from './support/run-deadline';

const STEPS = (process.env.BENCH_HISTORY_STEPS ?? '20,60,200').split(',').map((steps) => Number(steps.trim()));
const RESULT_BYTES = Number(process.env.BENCH_TOOL_RESULT_BYTES ?? 20_000);
const TIMEOUT_MS = Number(process.env.BENCH_HISTORY_TIMEOUT_SECONDS ?? 600) * 1000;
if (!STEPS.length || !STEPS.every((steps) => Number.isInteger(steps) && steps >= 1))
  throw new Error(`BENCH_HISTORY_STEPS must be positive integers, comma-separated: ${process.env.BENCH_HISTORY_STEPS}`);
if (!Number.isInteger(RESULT_BYTES) || RESULT_BYTES < 32) throw new Error('BENCH_TOOL_RESULT_BYTES must be >= 32');

/**
 * The SDK warns of each payload over 512 KB (TMPRL1103) on stderr, one line each: such warnings are
 * counted per run instead (with the largest size), and only errors are printed.
 */
const payloadWarnings = { count: 0, maxBytes: 0 };
Runtime.install({
  logger: new DefaultLogger('WARN', (entry: LogEntry) => {
    if (entry.message.includes('TMPRL1103')) {
      payloadWarnings.count += 1;
      payloadWarnings.maxBytes = Math.max(payloadWarnings.maxBytes, Number(entry.meta?.size) || 0);
    } else if (entry.level === 'ERROR') {
      console.error(`[${entry.level}] ${entry.message}`, entry.meta ?? '');
    }
  }),
  telemetryOptions: { logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} } },
});

const FINAL_ANSWER = 'All steps done.';
const utf8 = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** One tool whose result serializes (as the tool activity does, with JSON.stringify) to exactly RESULT_BYTES ASCII bytes, different at each step. */
const agent = defineAgent({
  name: 'history-bench',
  instructions: 'Fetch each page in turn, then say you are done.',
  model: 'gpt-4o-mini',
  tools: [
    defineTool({
      name: 'fetch_page',
      description: 'Returns one page of a long document.',
      input: z.object({ page: z.number() }),
      execute: ({ page }) => `page ${page} `.padEnd(RESULT_BYTES - 2, 'x'),
    }),
  ],
});

/** What the scripted model saw of one run: each conversation message's bytes, by position, as first received. */
interface Seen {
  messageBytes: number[];
  turns: Set<number>;
}
const seen = new Map<string, Seen>();
const RUN_TAG = /^\[(bench-history-[\w-]+)\] Fetch (\d+) pages/;

/** Fetches pages until the run's step count is reached, then answers; records what each request carried. */
function script(request: ModelRequest) {
  const user = request.messages.find((message) => message.role === 'user');
  const match = user && RUN_TAG.exec(user.content);
  if (!match) return reply.error(400, 'not a bench-history request');
  const [, tag, steps] = match;
  const record = seen.get(tag) ?? { messageBytes: [], turns: new Set<number>() };
  seen.set(tag, record);
  request.messages.forEach((message, index) => {
    if (message.role !== 'system') record.messageBytes[index] ??= utf8(message);
  });
  const turn = turnOf(request);
  record.turns.add(turn);
  return turn < Number(steps) - 1
    ? reply.tools([{ name: 'fetch_page', args: { page: turn + 1 } }])
    : reply.text(FINAL_ANSWER);
}

interface Row {
  steps: number;
  status: string;
  /** Model calls the run made (its steps, or those it reached before failing). */
  stepsReached: number;
  historyEvents: number;
  historyBytes: number;
  bytesPerStep: number;
  conversationBytes: number;
  historyPerConversation: number;
  runsInChain: number;
  /** Payloads the SDK warned of as over 512 KB during the run, and the largest of them. */
  payloadWarnings: { count: number; maxBytes: number };
  seconds: number;
  workflowId: string;
}

/** Every run of the workflow id, from visibility (waiting for it to list the latest run as closed), each described. */
async function chainOf(client: Client, workflowId: string) {
  const latest = await client.workflow.getHandle(workflowId).describe();
  for (let attempt = 0; ; attempt++) {
    const runs = [];
    for await (const info of client.workflow.list({ query: `WorkflowId="${workflowId}"` })) runs.push(info);
    const listed = runs.find((info) => info.runId === latest.runId);
    if ((listed && listed.status.name !== 'RUNNING') || attempt >= 50) {
      const described = await Promise.all(
        runs.map((info) => client.workflow.getHandle(workflowId, info.runId).describe()),
      );
      if (!described.some((run) => run.runId === latest.runId)) described.push(latest);
      return { described, latest };
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** A run's failure in one line: the failure under the client's WorkflowFailedError, and its cause (type: message). */
function describeFailure(error: unknown): string {
  const parts: string[] = [];
  let current = error instanceof WorkflowFailedError && error.cause ? error.cause : (error as Error | undefined);
  for (; current && parts.length < 2; current = current.cause as Error | undefined) {
    const { name, type, message } = current as Error & { type?: string };
    const part = `${type ?? name}: ${message}`;
    if (!parts.some((earlier) => earlier.endsWith(`: ${message}`))) parts.push(part);
  }
  return parts.join(' <- ');
}

async function main(): Promise<void> {
  // Results are never cut: the bench measures the size it was asked for.
  const resultMax = Math.max(DEFAULT_TOOL_RESULT_MAX_BYTES, RESULT_BYTES);
  // The tests' dev server, the model and a worker in this process.
  const server = await startDevServer();
  const test = await startAgentTest({
    address: server.address,
    agents: [agent],
    // Requests are measured as they come (`script`), not kept: a long run's would take hundreds of MB.
    script: (request) => {
      test.model.requests.length = 0;
      return script(request);
    },
    env: { MODEL_HEARTBEAT_SECONDS: '5', MODEL_TIMEOUT_SECONDS: '20', TOOL_RESULT_MAX_BYTES: String(resultMax) },
  });
  const { client } = test.client;
  const rows: Row[] = [];
  try {
    for (const steps of STEPS) {
      const tag = `bench-history-${steps}-${randomUUID().slice(0, 8)}`;
      const started = performance.now();
      Object.assign(payloadWarnings, { count: 0, maxBytes: 0 });
      // Started bare (no search attributes, no summary), so the history holds the run's own events only.
      const handle = await client.workflow.start<typeof agentRun>(WorkflowType.agentRun, {
        taskQueue: test.taskQueue,
        workflowId: tag,
        args: [{ agent: agent.name, message: `[${tag}] Fetch ${steps} pages.`, limits: { maxSteps: steps + 5 } }],
      });
      let status: string;
      try {
        const outcome = await resultBy(handle, TIMEOUT_MS);
        if (outcome === LATE) {
          await client.workflow
            .getHandle(tag)
            .terminate('bench:history timeout')
            .catch(() => undefined);
          status = `timed out after ${TIMEOUT_MS / 1000} s (terminated by the bench)`;
        } else {
          status =
            outcome.status === 'completed' && outcome.steps === steps
              ? 'completed'
              : `${outcome.status} after ${outcome.steps} steps`;
        }
      } catch (error) {
        status = describeFailure(error);
      }
      const seconds = (performance.now() - started) / 1000;
      const { described, latest } = await chainOf(client, tag);
      if (status !== 'completed') status = `${latest.status.name}: ${status}`;
      const record = seen.get(tag);
      seen.delete(tag);
      const stepsReached = record?.turns.size ?? 0;
      const answered = status === 'completed' ? utf8({ role: 'assistant', content: FINAL_ANSWER }) : 0;
      const conversationBytes = (record?.messageBytes ?? []).reduce((sum, bytes) => sum + (bytes ?? 0), answered);
      const historyBytes = described.reduce((sum, run) => sum + (run.historySize ?? NaN), 0);
      const row: Row = {
        steps,
        status,
        stepsReached,
        historyEvents: described.reduce((sum, run) => sum + run.historyLength, 0),
        historyBytes,
        bytesPerStep: historyBytes / Math.max(1, stepsReached),
        conversationBytes,
        historyPerConversation: historyBytes / conversationBytes,
        runsInChain: described.length,
        payloadWarnings: { ...payloadWarnings },
        seconds,
        workflowId: tag,
      };
      rows.push(row);
      console.log(
        `${steps} steps: ${status} in ${seconds.toFixed(1)} s, history ${(historyBytes / 1e6).toFixed(2)} MB`,
      );
    }
  } finally {
    await test.close();
    await stopDevServer(server.process);
  }

  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
  console.log(
    `\ntask runs of N steps (N-1 tool calls of ${RESULT_BYTES} bytes each, then an answer); ` +
      `conversation = bytes of each message's JSON as the scripted model received it, plus the answer\n`,
  );
  console.table(
    rows.map((row) => ({
      steps: row.steps,
      status: row.status.length > 70 ? `${row.status.slice(0, 70)}...` : row.status,
      'steps reached': row.stepsReached,
      'history events': row.historyEvents,
      'history bytes': mb(row.historyBytes),
      'bytes per step': `${(row.bytesPerStep / 1e3).toFixed(1)} KB`,
      'conversation bytes': mb(row.conversationBytes),
      'history / conversation': `${row.historyPerConversation.toFixed(1)}x`,
      'runs in chain': row.runsInChain,
      'payloads > 512 KB': row.payloadWarnings.count,
    })),
  );
  const first = rows[0];
  const last = rows[rows.length - 1];
  const growth = last.bytesPerStep / first.bytesPerStep;
  if (rows.length > 1) {
    console.log(
      `growth: bytes per step at ${last.steps} steps / at ${first.steps} steps = ${growth.toFixed(2)}x ` +
        `(near 1 is linear, near ${(last.steps / first.steps).toFixed(0)} is quadratic)` +
        (last.status === 'completed' && first.status === 'completed'
          ? ''
          : '; a run that did not complete is counted over the steps it reached'),
    );
  }
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `history-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const report = {
    at: new Date().toISOString(),
    toolResultBytes: RESULT_BYTES,
    timeoutSeconds: TIMEOUT_MS / 1000,
    conversationBytesFrom:
      'scripted model requests (each message at first sight, system prompt excluded) + final answer',
    rows,
    growth: rows.length > 1 ? { from: first.steps, to: last.steps, bytesPerStepRatio: growth } : undefined,
  };
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

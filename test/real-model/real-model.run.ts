/**
 * The real-model test (issue #24): the helpdesk agent on a real small model behind a real model
 * server nobody here wrote — llama.cpp's llama-server with Qwen2.5-Coder-0.5B-Instruct, installed by
 * install-real-model.sh (built once, about 26 minutes on 2 cores; cached in .real-model/) — through a
 * real worker process and a real Temporal dev server. It checks what a user of a local model needs:
 * a tool call, an approval, a session of two turns, the answer streaming as it is written, and a run
 * that outlives its model server killed mid-answer and down for 40 s. It prints each step's latency.
 *
 * `npm run test:real-model` (a tsx script; exit code 1 on failure). Not in CI: a real model on two
 * cores takes minutes, and what a 0.5B model answers varies. Env: REAL_MODEL_DIR (the install's
 * cache), REAL_MODEL_SCENARIOS=toolCall,session (some of them), REAL_MODEL_VERBOSE=1 (the worker's and the
 * server's output as they come).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentClient } from '../../client';
import { loadTemporalConfig } from '../../src/config';
import { freePort, startDevServer, stopDevServer } from '../../testing/dev-server';
import { spawnWorker, waitUntilPolling } from '../support/worker-process';

const HERE = __dirname;
const MODEL_ALIAS = 'qwen2.5-coder-0.5b-instruct';
const OUTAGE_MS = 40_000;
/** agents/helpdesk/data/orders.json */
const ORDER_1042_TOTAL_USD = 129;
const verbose = process.env.REAL_MODEL_VERBOSE === '1';
const t0 = Date.now();
const log = (line: string) => console.log(`[real-model +${((Date.now() - t0) / 1000).toFixed(1)}s] ${line}`);

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
  log(`ok: ${what}`);
}

/** The installed server binary and model file (the install script's last two lines). */
function install(): { server: string; model: string } {
  log('installing (cached after the first time): llama-server and the model');
  const out = execFileSync('bash', [join(HERE, 'install-real-model.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [server, model] = out.trim().split('\n').slice(-2);
  return { server, model };
}

/** llama-server on `port` with the chat template that makes these models' tool calls real `tool_calls`. */
class ModelServer {
  private child?: ChildProcess;
  constructor(
    private readonly binary: string,
    private readonly model: string,
    readonly port: number,
  ) {}

  async start(): Promise<void> {
    const args = ['-m', this.model, '--alias', MODEL_ALIAS, '--host', '127.0.0.1', '--port', String(this.port)];
    // Greedy sampling: what a 0.5B model writes at the default temperature varies run to run.
    args.push('-c', '16384', '-np', '1', '-t', '2', '--no-webui', '--temp', '0', '--seed', '42');
    args.push('--chat-template-file', join(HERE, 'qwen2.5-coder-tools.jinja'));
    this.child = spawn(this.binary, args, {
      stdio: ['ignore', verbose ? 'inherit' : 'ignore', verbose ? 'inherit' : 'ignore'],
    });
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`llama-server exited with ${this.child.exitCode}`);
      const healthy = await fetch(`http://127.0.0.1:${this.port}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (healthy) return;
      await sleep(500);
    }
    throw new Error('llama-server did not answer /health within 120 s');
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }
}

type Scenario = (client: AgentClient, server: ModelServer) => Promise<string>;

/** The model must look the order up (a real tool call) and answer from what it found. */
const toolCall: Scenario = async (client) => {
  const id = await client.start({ agent: 'helpdesk', message: 'What is the status of order 1042? Look it up.' });
  const result = await client.result(id);
  const transcript = await client.transcript(id);
  check(result.status === 'completed', `a tool-using run completes (${result.status})`);
  const calls = transcript.messages.flatMap((message) =>
    message.role === 'assistant' ? (message.tool_calls ?? []) : [],
  );
  check(
    calls.some((call) => call.function.name === 'lookup_order'),
    'the model called lookup_order',
  );
  return id;
};

/**
 * A refund waits for a person. A 0.5B model asks for odd amounts (500000 for a $129 order, measured),
 * so the person approves the first call edited to the order's total and denies any call after it:
 * the refund runs once, for the total.
 */
const approval: Scenario = async (client) => {
  const id = await client.start({
    agent: 'helpdesk',
    message: 'Order 1042 arrived broken. Issue a full refund for order 1042 now with the issue_refund tool.',
  });
  const deadline = Date.now() + 15 * 60_000;
  const decided = new Set<string>();
  while (!(await client.isClosed(id)) && Date.now() < deadline) {
    const pending = (await client.state(id).catch(() => undefined))?.pendingApprovals ?? [];
    for (const call of pending.filter((each) => !decided.has(each.callId))) {
      const first = decided.size === 0;
      const args = { ...(call.args as object), orderId: '1042', amountUsd: ORDER_1042_TOTAL_USD };
      await client.decide(id, {
        callId: call.callId,
        approve: first,
        ...(first ? { args, note: 'refunded at the order total' } : { note: 'already refunded once' }),
        decidedBy: 'real-model test',
      });
      log(`${first ? 'approved (edited to the order total)' : 'denied'}: ${call.tool} ${call.callId}`);
      decided.add(call.callId);
    }
    await sleep(1_000);
  }
  check(decided.size > 0, 'the refund waited for approval');
  const result = await client.result(id);
  // Told the refund went through, a 0.5B model often asks for it again (measured): denied each time,
  // the loop guard ends the run `stuck` with its summary, which is the guard doing its job.
  check(['completed', 'stuck'].includes(result.status), `the approved run ends with an answer (${result.status})`);
  return id;
};

/** Two turns of a session, each answered. */
const session: Scenario = async (client) => {
  // Conversation, not tools: a 0.5B model greeted with "Hi, I have a question" searched the knowledge
  // base until the loop guard ended the session `stuck` (measured); the tool path is the scenarios above.
  const id = await client.start({ agent: 'helpdesk', mode: 'session', message: 'My name is Ada. Please greet me.' });
  const second = await client.chat(id, 'Thank you. What is my name?');
  // The helpdesk has no output schema, so each reply is text.
  check(typeof second === 'string' && second.trim().length > 0, 'the second turn is answered');
  const answers = (await client.transcript(id)).messages.filter(
    (message) => message.role === 'assistant' && !message.tool_calls?.length && message.content,
  );
  check(answers.length >= 2, `both turns of the session are answered (${answers.length} answers)`);
  await client.end(id);
  await client.result(id);
  return id;
};

/** The answer streams as it is written; the model server killed mid-answer, the run waits it out. */
const streamingThroughOutage: Scenario = async (client, server) => {
  const id = await client.start({
    agent: 'helpdesk',
    message: 'Without using any tool, tell me in two sentences how to pack a laptop for shipping.',
  });
  let pieces = 0;
  for await (const event of client.stream(id)) {
    if (event.type === 'text') pieces += 1;
    if (pieces >= 3) break;
  }
  check(pieces >= 3, `the answer streamed in pieces as it was written (${pieces} seen)`);
  server.kill();
  log(`model server killed mid-answer; down for ${OUTAGE_MS / 1000} s`);
  const killedAt = Date.now();
  await sleep(OUTAGE_MS);
  await server.start();
  const result = await client.result(id);
  check(result.status === 'completed', `the run outlived its model server's 40 s outage (${result.status})`);
  check(Date.now() - killedAt >= OUTAGE_MS, 'it completed after the server came back');
  return id;
};

const SCENARIOS: Record<string, Scenario> = { toolCall, approval, session, streamingThroughOutage };

/** Each model call of each scenario's run: its latency and tokens (from the run's history). */
async function printLatencies(client: AgentClient, runs: Record<string, string>): Promise<void> {
  console.log('\nscenario                 step  seconds  tokens in/out');
  for (const [name, id] of Object.entries(runs)) {
    for (const step of (await client.transcript(id)).steps) {
      const tokens = `${step.inputTokens}/${step.outputTokens}${step.estimated ? ' (estimated)' : ''}`;
      console.log(
        `${name.padEnd(24)} ${String(step.step).padStart(4)}  ${step.seconds.toFixed(1).padStart(7)}  ${tokens}`,
      );
    }
  }
}

async function main(): Promise<void> {
  const { server: binary, model } = install();
  const modelServer = new ModelServer(binary, model, await freePort());
  const work = mkdtempSync(join(tmpdir(), 'real-model-'));
  await modelServer.start();
  const temporal = await startDevServer();
  const env = {
    TEMPORAL_ADDRESS: temporal.address,
    TASK_QUEUE: `real-model-${process.pid}`,
    AGENT_MODULES: 'helpdesk',
    HELPDESK_LEDGER: join(work, 'ledger.jsonl'),
    OPENAI_BASE_URL: `http://127.0.0.1:${modelServer.port}/v1`,
    OPENAI_API_KEY: 'no-key-needed',
    AGENT_MODEL: MODEL_ALIAS,
    // A 0.5B model on two busy cores wrote a 461-token answer in 98 s; past 120 s an attempt is cut.
    MODEL_TIMEOUT_SECONDS: '600',
  };
  const worker = spawnWorker(env);
  if (verbose) worker.child.stdout!.pipe(process.stdout);
  const client = await AgentClient.connect(loadTemporalConfig(env));
  const runs: Record<string, string> = {};
  try {
    await waitUntilPolling(worker);
    const chosen = process.env.REAL_MODEL_SCENARIOS?.split(',') ?? Object.keys(SCENARIOS);
    for (const [name, scenario] of Object.entries(SCENARIOS).filter(([each]) => chosen.includes(each))) {
      log(`scenario ${name}`);
      runs[name] = await scenario(client, modelServer);
    }
    if (runs.approval) {
      const refunds = readFileSync(env.HELPDESK_LEDGER, 'utf8').trim().split('\n').filter(Boolean);
      check(refunds.length === 1, `the ledger holds the approved refund once (${refunds.length})`);
      check(JSON.parse(refunds[0]).amountUsd === ORDER_1042_TOTAL_USD, 'for the amount the approver set');
    }
    await printLatencies(client, runs);
    log('passed');
  } finally {
    await client.close();
    worker.child.kill('SIGTERM');
    await worker.exited;
    modelServer.kill();
    await stopDevServer(temporal.process);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`[real-model] FAILED: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});

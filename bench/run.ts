/**
 * `npm run bench`: what durability costs. The same two-step helpdesk conversation (one turn with two
 * parallel tool calls, then an answer) runs N times directly in this process and N times as durable
 * `agentRun` workflows on a dev server and a worker, against an instant scripted model. These
 * machines are noisy, so the report compares ratios measured in the same run.
 *
 * Env: BENCH_RUNS (default 200), BENCH_CONCURRENCY (default 20).
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import OpenAI from 'openai';
import { createFileHelpdeskBackend, createHelpdeskAgent } from '../agents/helpdesk';
import type { ChatMessage } from '../src/types';
import { startDevServer, stopDevServer } from '../test/support/dev-server';
import { startTestWorker } from '../test/support/harness';
import { byTurn, reply, startScriptedModel } from '../testing';

const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);

/** Runs `task` RUNS times, CONCURRENCY at a time; returns each run's latency in ms and the wall time. */
async function measure(task: (index: number) => Promise<void>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < RUNS) {
        const index = next++;
        const t0 = performance.now();
        await task(index);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), wallMs: performance.now() - started };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function summary(name: string, { latencies, wallMs }: { latencies: number[]; wallMs: number }) {
  return {
    name,
    runsPerSecond: (RUNS / wallMs) * 1000,
    p50Ms: percentile(latencies, 50),
    p95Ms: percentile(latencies, 95),
  };
}

async function main(): Promise<void> {
  const script = byTurn([
    reply.tools([
      { name: 'search_knowledge_base', args: { query: 'delayed parcel refund' } },
      { name: 'lookup_order', args: { orderId: '1042' } },
    ]),
    reply.text('Order 1042 is delayed; you can have a refund.'),
  ]);
  const model = await startScriptedModel(script);
  const server = await startDevServer();
  const dir = tmpdir();
  const bundlePath = join(dir, `bench-bundle-${randomUUID()}.js`);
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  writeFileSync(bundlePath, bundle.code);
  console.log(`workflow bundle: ${(bundle.code.length / 1024 / 1024).toFixed(2)} MB`);
  process.env.TEST_TEMPORAL_ADDRESS = server.address;
  process.env.TEST_TMP_DIR = dir;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;

  // Direct: the same model calls and tools, no durability.
  const openai = new OpenAI({ baseURL: model.baseUrl, apiKey: 'bench', maxRetries: 0 });
  const agent = createHelpdeskAgent(createFileHelpdeskBackend({ ledgerPath: join(dir, 'bench-ledger.jsonl') }));
  const tools = agent.tools.map((tool) => ({
    type: 'function' as const,
    function: { name: tool.name, description: tool.description, parameters: {} },
  }));
  const direct = await measure(async () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: agent.instructions },
      { role: 'user', content: 'Where is 1042?' },
    ];
    for (;;) {
      const completion = await openai.chat.completions.create({ model: 'bench', messages, tools });
      const message = completion.choices[0].message;
      messages.push({ role: 'assistant', content: message.content, tool_calls: message.tool_calls as never });
      if (!message.tool_calls?.length) return;
      const results = await Promise.all(
        message.tool_calls.map(async (call) => {
          if (call.type !== 'function') throw new Error('unexpected tool call type');
          const tool = agent.tools.find((candidate) => candidate.name === call.function.name)!;
          const args = tool.input.parse(JSON.parse(call.function.arguments));
          const result = await tool.execute(args, {
            idempotencyKey: call.id,
            signal: new AbortController().signal,
            heartbeat: () => undefined,
            attempt: 1,
            workflowId: 'direct',
            agent: agent.name,
          });
          return { role: 'tool' as const, tool_call_id: call.id, content: JSON.stringify(result) };
        }),
      );
      messages.push(...results);
    }
  });

  const worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl });
  const rssBefore = process.memoryUsage().rss;
  const durable = await measure(async () => {
    const handle = await worker.start({ agent: 'helpdesk', message: 'Where is 1042?' });
    const result = await handle.result();
    if (result.status !== 'completed' || result.steps !== 2)
      throw new Error(`unexpected result ${JSON.stringify(result)}`);
  });
  const rssAfter = process.memoryUsage().rss;
  await worker.stop();
  await model.close();
  await stopDevServer(server.process);

  const rows = [
    summary('direct (in-process, not durable)', direct),
    summary('durable (agentRun on Temporal)', durable),
  ];
  console.log(`\n${RUNS} runs, ${CONCURRENCY} at a time; each run = 2 model calls + 2 parallel tool calls\n`);
  console.table(
    rows.map((row) => ({
      ...row,
      runsPerSecond: row.runsPerSecond.toFixed(1),
      p50Ms: row.p50Ms.toFixed(1),
      p95Ms: row.p95Ms.toFixed(1),
    })),
  );
  console.log(
    `durable / direct p50 latency: ${(durable.latencies[RUNS >> 1] / direct.latencies[RUNS >> 1]).toFixed(1)}x`,
  );
  console.log(`direct / durable throughput: ${(rows[0].runsPerSecond / rows[1].runsPerSecond).toFixed(1)}x`);
  console.log(
    `worker process RSS growth over the durable runs: ${((rssAfter - rssBefore) / 1024 / 1024).toFixed(1)} MB`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});

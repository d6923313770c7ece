/**
 * `npm run bench:stream`: how long the model's text takes from the model server to a client following
 * the run (`AgentClient.stream`, what the CLI's `send`, `start --wait` and `watch` print from). A
 * scripted model streams each answer in `--pieces` pieces `--every-ms` apart; piece k leaves the server
 * at the request's arrival plus k intervals, and reaches the client with the first text event that
 * completes it. One worker per heartbeat throttle in `--throttle-ms` (its own task queue), runs one at
 * a time, on one dev server: the figures of one invocation compare. Results also go to
 * bench/results/stream-<timestamp>.json.
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { AgentClient } from '../client/agent-client';
import { createAgentWorker } from '../runtime/create-worker';
import { loadTemporalConfig, loadWorkerConfig } from '../src/config';
import { reply, startScriptedModel, type ModelRequest } from '../testing';
import { wholeNumber } from './support/args';
import { writeResults } from './support/results';
import { startBenchServer } from './support/server';
import { spread } from './support/stats';
import { formatTable } from './support/table';

const { values } = parseArgs({
  options: {
    runs: { type: 'string' },
    pieces: { type: 'string' },
    'every-ms': { type: 'string' },
    'throttle-ms': { type: 'string' },
  },
});
const RUNS = wholeNumber('--runs', values.runs, 10, 1);
const PIECES = wholeNumber('--pieces', values.pieces, 20, 2);
const EVERY_MS = wholeNumber('--every-ms', values['every-ms'], 100, 1);
const THROTTLES = (values['throttle-ms'] ?? '100,250,1000')
  .split(',')
  .map((ms) => wholeNumber('--throttle-ms', ms, 250, 1));

Runtime.install({ logger: new DefaultLogger('ERROR') });

interface Row {
  throttleMs: number;
  /** Milliseconds from a piece leaving the model server to the client holding it. */
  latency: ReturnType<typeof spread>;
  firstText: ReturnType<typeof spread>;
  /** Text events per answer (each carries whatever arrived since the last). */
  eventsPerAnswer: number;
}

async function main(): Promise<void> {
  const server = await startBenchServer(true);
  const requests = new Map<string, ModelRequest>();
  const pieces = Array.from({ length: PIECES }, (_, index) => `w${index} `);
  const model = await startScriptedModel((request) => {
    requests.set(request.messages.find((message) => message.role === 'user')?.content ?? '', request);
    return reply.streamed(pieces, { everyMs: EVERY_MS });
  });
  const rows: Row[] = [];
  try {
    for (const throttleMs of THROTTLES) {
      const env = {
        TEMPORAL_ADDRESS: server.address,
        TASK_QUEUE: `bench-stream-${throttleMs}-${randomUUID().slice(0, 8)}`,
        OPENAI_BASE_URL: model.baseUrl,
        HEARTBEAT_THROTTLE_MS: String(throttleMs),
        AGENT_MODULES: 'helpdesk',
        HELPDESK_LEDGER: join(tmpdir(), `bench-stream-${randomUUID()}.jsonl`),
      };
      const { worker, connection } = await createAgentWorker(loadWorkerConfig(env));
      const running = worker.run();
      const agents = await AgentClient.connect(loadTemporalConfig(env));
      const latencies: number[] = [];
      const firsts: number[] = [];
      let events = 0;
      try {
        for (let run = 0; run < RUNS; run++) {
          const message = `stream ${throttleMs} ${run}`;
          const id = await agents.start({ agent: 'helpdesk', message });
          let text = '';
          let shown = 0;
          for await (const event of agents.stream(id)) {
            if (event.type !== 'text') continue;
            const arrivedAt = Date.now();
            events += 1;
            text += event.text;
            const sentAt = requests.get(message)!.receivedAt;
            for (; shown < pieces.length && text.length >= pieces.slice(0, shown + 1).join('').length; shown++) {
              const latency = arrivedAt - (sentAt + shown * EVERY_MS);
              latencies.push(latency);
              if (shown === 0) firsts.push(latency);
            }
          }
        }
      } finally {
        await agents.close();
        worker.shutdown();
        await running;
        await connection.close();
      }
      rows.push({
        throttleMs,
        latency: spread(latencies),
        firstText: spread(firsts),
        eventsPerAnswer: events / RUNS,
      });
    }
  } finally {
    await model.close();
    await server.stop();
  }
  console.log(
    `${RUNS} answers of ${PIECES} pieces ${EVERY_MS} ms apart per row; latency from the model server to AgentClient.stream, ms\n`,
  );
  console.log(
    formatTable(
      ['HEARTBEAT_THROTTLE_MS', 'p50', 'p95', 'max', 'first text p50', 'text events per answer'],
      rows.map((row) => [
        String(row.throttleMs),
        String(Math.round(row.latency.p50)),
        String(Math.round(row.latency.p95)),
        String(Math.round(row.latency.max)),
        String(Math.round(row.firstText.p50)),
        row.eventsPerAnswer.toFixed(1),
      ]),
    ),
  );
  console.log(`\nwrote ${writeResults('stream', { runs: RUNS, pieces: PIECES, everyMs: EVERY_MS, rows })}`);
}

main().catch((error: Error) => {
  console.error(`bench:stream: ${error.stack ?? error.message}`);
  process.exit(1);
});

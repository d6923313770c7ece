/**
 * `npm run demo`: starts (or reuses) the dev server, starts a worker, runs the helpdesk agent on a
 * sample request, approves its refund as the demo's human, prints the transcript, the result and the
 * Web UI link, then shuts the worker down. Uses the real model when OPENAI_API_KEY is set (and
 * AGENT_MODEL is not `offline`). Temporal is where TEMPORAL_ADDRESS says, else the dev server on the
 * port temporal-dev.sh started it on (cli/local-temporal.ts, as for `durable-agents dev`).
 */
import { Runtime } from '@temporalio/worker';
import { AgentClient } from '../client';
import { formatOutcome } from '../cli/format';
import { findOrStartTemporal } from '../cli/local-temporal';
import { StreamPrinter } from '../cli/stream-printer';
import { createAgentWorker, createWorkerLogger, loadWorkerConfig, parseModuleList } from '../worker';
import { DEFAULT_MODEL } from '../src/defaults';
import { OFFLINE_AGENT_MODEL, offlineModelEnv, SAMPLE_REQUEST, startOfflineModel } from '../runtime/offline-model';

async function main(): Promise<void> {
  // The worker program's one-line log, at WARN: the demo's own output is the transcript.
  Runtime.install({ logger: createWorkerLogger('WARN') });
  const usingRealModel = Boolean(process.env.OPENAI_API_KEY) && process.env.AGENT_MODEL !== OFFLINE_AGENT_MODEL;
  // Where the dev server runs is what temporal-dev.sh recorded (TEMPORAL_PORT when it started it), not
  // the client's default. The demo leaves it running.
  const temporal = await findOrStartTemporal(process.env);
  const why = temporal.origin === 'started' ? 'started here: ./temporal-dev.sh start' : temporal.reason;
  console.log(`Temporal at ${temporal.address} (${why})`);
  const env = { ...process.env, TEMPORAL_ADDRESS: temporal.address };
  const offline = usingRealModel ? undefined : await startOfflineModel();
  console.log(
    offline
      ? `model: OFFLINE DEMO MODEL (scripted, at ${offline.baseUrl}); set OPENAI_API_KEY to use a real model`
      : `model: ${process.env.AGENT_MODEL ?? DEFAULT_MODEL} at ${process.env.OPENAI_BASE_URL ?? 'api.openai.com'}`,
  );
  const config = loadWorkerConfig({
    ...env,
    // The example agent the demo runs, which production workers register only when AGENT_MODULES names it.
    AGENT_MODULES: ['helpdesk', ...parseModuleList(process.env.AGENT_MODULES)].join(','),
    ...(offline && offlineModelEnv(offline.baseUrl, process.env.MODEL_PRICES)),
  });
  const { worker, connection } = await createAgentWorker(config);
  const running = worker.run();
  const client = await AgentClient.connect(config);
  try {
    const id = await client.start({ agent: 'helpdesk', message: SAMPLE_REQUEST, userId: 'demo-customer' });
    console.log(`run started: ${id}\n`);
    // The answer appears as the model writes it (on a terminal), the calls and their results as they happen.
    const printer = new StreamPrinter(process.stdout, { transcript: true });
    for await (const event of client.stream(id)) {
      printer.show(event);
      if (event.type !== 'approval') continue;
      console.log(`  [awaiting approval] ${event.tool} ${JSON.stringify(event.args)} (callId ${event.callId})`);
      console.log(`  [the demo approves as the human; yourself: npm run client -- approve ${id} ${event.callId}]`);
      await client.decide(id, { callId: event.callId, approve: true, note: 'approved by the demo' });
    }
    const result = await client.result(id);
    const ui = temporal.uiUrl ?? `http://localhost:${process.env.TEMPORAL_UI_PORT ?? '8233'}`;
    // The transcript above ends with the answer: say only how the run ended.
    console.log(`\n${formatOutcome(result)}`);
    console.log(`\nWeb UI: ${ui}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows/${id}`);
    if (temporal.stopCommand) {
      console.log(`The dev server at ${temporal.address} keeps running (${temporal.stopCommand} to stop it).`);
    }
  } finally {
    await client.close();
    worker.shutdown();
    await running;
    await connection.close();
    await offline?.close();
  }
}

main().catch((error: Error) => {
  console.error(`demo: ${error.message}`);
  process.exit(1);
});

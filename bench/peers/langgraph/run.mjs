// Benchmark peer: LangGraph.js `createReactAgent` with the file-backed SQLite checkpointer, doing the
// same work as the durable-agents bench (6 model calls + 5 `lookup` tool calls per run) against the
// scripted OpenAI-compatible model the main bench serves at OPENAI_BASE_URL.
//
// Prints exactly one line of JSON on stdout (the result); everything else goes to stderr.
// Plain JavaScript on purpose: its dependencies live in this folder only, not in the root project.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomUUID } from 'node:crypto';
import { AIMessage, ToolMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { SqliteSaver } from '@langchain/langgraph-checkpoint-sqlite';
import { createReactAgent } from '@langchain/langgraph/prebuilt';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';

const EXPECTED_TOOL_MESSAGES = 5;
const VERSIONED = [
  '@langchain/langgraph',
  '@langchain/langgraph-checkpoint',
  '@langchain/langgraph-checkpoint-sqlite',
  '@langchain/openai',
  '@langchain/core',
  'better-sqlite3',
];

// A bench against a scripted local model must never trace to the network.
process.env.LANGSMITH_TRACING = 'false';
process.env.LANGCHAIN_TRACING_V2 = 'false';

function intFromEnv(name, fallback, min) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

function installedVersion(name) {
  const url = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).version;
}

/** Runs `count` calls of `task` with at most `concurrency` in flight; rejects on the first failure. */
async function pool(count, concurrency, task) {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

async function main() {
  const baseURL = process.env.OPENAI_BASE_URL;
  if (!baseURL) throw new Error('OPENAI_BASE_URL is not set (the scripted model the bench serves)');
  const apiKey = process.env.OPENAI_API_KEY || 'bench';
  const runs = intFromEnv('BENCH_RUNS', 60, 1);
  const concurrency = intFromEnv('BENCH_CONCURRENCY', 10, 1);
  const warmup = intFromEnv('BENCH_WARMUP', 10, 0);
  const tempDir = process.env.BENCH_DB ? undefined : mkdtempSync(join(tmpdir(), 'bench-langgraph-'));
  const dbPath = process.env.BENCH_DB || join(tempDir, 'checkpoints.sqlite');

  const lookup = tool(async ({ key }) => JSON.stringify({ key, value: 'v:' + key }), {
    name: 'lookup',
    description: 'Look up the value stored under a key.',
    schema: z.object({ key: z.string() }),
  });
  const checkpointer = SqliteSaver.fromConnString(dbPath);
  const agent = createReactAgent({
    llm: new ChatOpenAI({ model: 'bench', configuration: { baseURL }, apiKey, maxRetries: 0 }),
    tools: [lookup],
    checkpointSaver: checkpointer,
  });

  const runOnce = async () => {
    const threadId = randomUUID();
    const state = await agent.invoke(
      { messages: [{ role: 'user', content: 'Look up the five keys.' }] },
      { configurable: { thread_id: threadId } },
    );
    const messages = state.messages;
    const last = messages.at(-1);
    if (!AIMessage.isInstance(last) || typeof last.text !== 'string' || last.text.trim() === '') {
      throw new Error(`thread ${threadId}: the final message is not an AI message with text`);
    }
    const toolMessages = messages.filter((message) => ToolMessage.isInstance(message));
    if (toolMessages.length !== EXPECTED_TOOL_MESSAGES) {
      throw new Error(`thread ${threadId}: ${toolMessages.length} tool messages, expected ${EXPECTED_TOOL_MESSAGES}`);
    }
    const failed = toolMessages.find((message) => message.status === 'error');
    if (failed) throw new Error(`thread ${threadId}: tool call failed: ${failed.text}`);
  };

  try {
    console.error(`langgraph peer: ${warmup} warm-up + ${runs} runs, ${concurrency} at a time, SQLite at ${dbPath}`);
    await pool(warmup, concurrency, runOnce);

    const latenciesMs = [];
    const cpuStart = process.cpuUsage();
    const wallStart = performance.now();
    await pool(runs, concurrency, async () => {
      const start = performance.now();
      await runOnce();
      latenciesMs.push(performance.now() - start);
    });
    const wallMs = performance.now() - wallStart;
    const cpu = process.cpuUsage(cpuStart);

    latenciesMs.sort((a, b) => a - b);
    const versions = Object.fromEntries(VERSIONED.map((name) => [name, installedVersion(name)]));
    const result = {
      name: 'langgraph',
      runs,
      concurrency,
      wallMs,
      latenciesMs,
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      rssBytes: process.memoryUsage().rss,
      versions,
    };
    return JSON.stringify(result);
  } finally {
    checkpointer.db.close();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

// Exits once the output is flushed (pipes can be asynchronous), without waiting for idle keep-alive sockets.
main().then(
  (line) => process.stdout.write(line + '\n', () => process.exit(0)),
  (error) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    process.stderr.write(`langgraph peer failed: ${message}\n`, () => process.exit(1));
  },
);

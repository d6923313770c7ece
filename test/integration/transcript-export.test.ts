/**
 * `transcript` and `export` read a closed run from its history alone: the worker that ran it is
 * stopped before the CLI (a real process) reads it, and an encrypted run decodes with PAYLOAD_KEYS.
 */
import { randomBytes } from 'node:crypto';
import { formatTranscript } from '../../cli/format';
import { costOf, DEFAULT_PRICES } from '../../src/pricing';
import { wireMessages } from '../../src/wire-messages';
import type { AgentRunResult, ChatMessage } from '../../src/types';
import { byTurn, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import { runCli } from '../support/cli';
import { startTestWorker } from '../support/harness';

const QUESTION = 'Where is order 1042?';
const ANSWER = 'Order 1042 is delayed; you can get a refund or a reshipment.';
const MODEL = 'gpt-4o-mini';

let model: ScriptedModel;

beforeAll(async () => {
  model = await startScriptedModel(
    byTurn([
      reply.tools([{ id: 'call_order', name: 'lookup_order', args: { orderId: '1042' } }], { input: 400, output: 25 }),
      reply.text(ANSWER, { input: 600, output: 15 }),
    ]),
  );
});
afterAll(async () => {
  await model?.close();
});

interface FinishedRun {
  id: string;
  result: AgentRunResult;
  /** What the run's transcript must be: what the model last read, and its answer. */
  messages: ChatMessage[];
  env: Record<string, string>;
}

/** Runs the two-step task on a worker of its own (with `keys`), then stops that worker. */
async function finishedRun(keys?: string): Promise<FinishedRun> {
  model.requests.length = 0;
  const worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl, PAYLOAD_KEYS: keys });
  const env = {
    TEMPORAL_ADDRESS: worker.config.TEMPORAL_ADDRESS,
    TASK_QUEUE: worker.config.TASK_QUEUE,
    ...(keys && { PAYLOAD_KEYS: keys }),
  };
  try {
    // Started through the CLI, so an encrypted run's input is encrypted too.
    const started = await runCli(['--json', 'start', 'helpdesk', QUESTION, '--wait'], env);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    // With --json the run's events come a line each, the result last.
    const { workflowId: id, result } = JSON.parse(started.stdout.trim().split('\n').at(-1)!) as {
      workflowId: string;
      result: AgentRunResult;
    };
    expect(result).toMatchObject({ status: 'completed', output: ANSWER, steps: 2 });
    const messages = [...model.requests[1].messages, { role: 'assistant' as const, content: ANSWER }];
    return { id, result, messages, env };
  } finally {
    await worker.stop();
  }
}

describe('transcript and export of a closed run, with no worker', () => {
  let run: FinishedRun;
  beforeAll(async () => {
    run = await finishedRun();
  });

  it('rebuilds every message: system, user, the tool call, its result and the answer', () => {
    const [system, user, call, result, answer] = run.messages;
    expect(system.role).toBe('system');
    expect(user).toEqual({ role: 'user', content: QUESTION });
    expect(call).toMatchObject({
      role: 'assistant',
      tool_calls: [{ id: 'call_order', function: { name: 'lookup_order' } }],
    });
    expect(result).toMatchObject({ role: 'tool', tool_call_id: 'call_order' });
    expect(JSON.parse((result as { content: string }).content)).toMatchObject({ id: '1042', status: 'delayed' });
    expect(answer).toEqual({ role: 'assistant', content: ANSWER });
    expect(run.messages).toHaveLength(5);
  });

  it('`transcript` prints the messages, then one row per step and the totals', async () => {
    const outcome = await runCli(['transcript', run.id], run.env);
    expect(outcome).toMatchObject({ code: 0, stderr: '' });
    const [messages, table] = outcome.stdout.split('\n\nSTEP');
    expect(messages).toBe(formatTranscript(run.messages));
    const rows = `STEP${table}`.trimEnd().split('\n');
    const { costUsd } = run.result.usage;
    const cost = (tokensIn: number, tokensOut: number) =>
      `\\$${costOf(DEFAULT_PRICES, MODEL, { inputTokens: tokensIn, outputTokens: tokensOut }).costUsd.toFixed(6)}`;
    expect(rows[0]).toMatch(/^STEP\s+MODEL\s+IN\s+OUT\s+COST\s+LATENCY$/);
    expect(rows[1]).toMatch(new RegExp(`^1\\s+${MODEL}\\s+400\\s+25\\s+${cost(400, 25)}\\s+\\d+\\.\\d\\d s$`));
    expect(rows[2]).toMatch(new RegExp(`^2\\s+${MODEL}\\s+600\\s+15\\s+${cost(600, 15)}\\s+\\d+\\.\\d\\d s$`));
    expect(rows[3]).toMatch(new RegExp(`^total\\s+1000\\s+40\\s+\\$${costUsd.toFixed(6)}\\s+\\d+\\.\\d\\d s$`));
    expect(rows).toHaveLength(4);
  });

  it('`transcript --json` and `export --format jsonl` carry the usage of the run result', async () => {
    const json = await runCli(['--json', 'transcript', run.id], run.env);
    const transcript = JSON.parse(json.stdout);
    expect(transcript).toMatchObject({ workflowId: run.id, agent: 'helpdesk', status: 'completed', model: MODEL });
    // The run's transcript, as the model received it (an answer that only called tools sent with content "").
    expect(wireMessages(transcript.messages)).toEqual(run.messages);
    expect(transcript.messages[2]).toMatchObject({ role: 'assistant', content: null });
    const { inputTokens, outputTokens, totalTokens, costUsd } = run.result.usage;
    expect(transcript.usage).toEqual({ inputTokens, outputTokens, totalTokens, costUsd });

    const outcome = await runCli(['export', run.id, '--format', 'jsonl'], run.env);
    expect(outcome).toMatchObject({ code: 0, stderr: '' });
    const lines = outcome.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    const messageLines = lines.slice(0, -1) as { type: string }[];
    expect(messageLines.map((line) => line.type)).toEqual(run.messages.map(() => 'message'));
    expect(wireMessages(messageLines.map(({ type: _type, ...message }) => message as ChatMessage))).toEqual(
      run.messages,
    );
    expect(lines.at(-1)).toEqual({
      type: 'usage',
      workflowId: run.id,
      agent: 'helpdesk',
      status: 'completed',
      inputTokens: 1000,
      outputTokens: 40,
      totalTokens: 1040,
      costUsd,
      steps: [
        expect.objectContaining({ step: 1, model: MODEL, inputTokens: 400, outputTokens: 25 }),
        expect.objectContaining({ step: 2, model: MODEL, inputTokens: 600, outputTokens: 15 }),
      ],
    });
    expect(totalTokens).toBe(1040);
  });

  it('`export --format openai` is a Chat Completions request that replays the run', async () => {
    const outcome = await runCli(['export', run.id, '--format', 'openai'], run.env);
    expect(outcome).toMatchObject({ code: 0, stderr: '' });
    const body = JSON.parse(outcome.stdout);
    expect(body.model).toBe(MODEL);
    expect(body.messages).toEqual(run.messages);
    // The tools the model was offered, as it was offered them.
    expect(body.tools).toEqual(model.requests[1].tools);
  });

  it('`export` writes markdown by default: a heading, a section a message, the usage table', async () => {
    const outcome = await runCli(['export', run.id], run.env);
    expect(outcome).toMatchObject({ code: 0, stderr: '' });
    const [system, , , tool] = run.messages as { content: string }[];
    const sections = outcome.stdout.trimEnd().split(/\n\n(?=## )/);
    expect(sections[0]).toBe(`# Run ${run.id}\n\n- agent: helpdesk\n- status: completed`);
    expect(sections.slice(1, 6)).toEqual([
      `## system\n\n${system.content}`,
      `## user\n\n${QUESTION}`,
      '## assistant\n\n- tool call `lookup_order` (call_order):\n\n```json\n{"orderId":"1042"}\n```',
      `## tool (call_order)\n\n\`\`\`\n${tool.content}\n\`\`\``,
      `## assistant\n\n${ANSWER}`,
    ]);
    const usage = sections[6].split('\n');
    expect(usage.slice(0, 4)).toEqual([
      '## usage',
      '',
      '| step | model | tokens in | tokens out | cost (USD) | latency (s) |',
      '| ---: | --- | ---: | ---: | ---: | ---: |',
    ]);
    expect(usage[4]).toMatch(new RegExp(`^\\| 1 \\| ${MODEL} \\| 400 \\| 25 \\| [\\d.]+ \\| [\\d.]+ \\|$`));
    expect(usage[5]).toMatch(new RegExp(`^\\| 2 \\| ${MODEL} \\| 600 \\| 15 \\| [\\d.]+ \\| [\\d.]+ \\|$`));
    expect(usage[6]).toMatch(
      new RegExp(`^\\| total \\|  \\| 1000 \\| 40 \\| ${run.result.usage.costUsd.toFixed(6)} \\| [\\d.]+ \\|$`),
    );
    expect(sections).toHaveLength(7);
  });

  it('an unknown run id is one error line and exit code 1', async () => {
    for (const args of [
      ['transcript', 'no-such-run'],
      ['export', 'no-such-run', '--format', 'jsonl'],
    ]) {
      expect(await runCli(args, run.env)).toEqual({
        code: 1,
        stdout: '',
        stderr: 'error: no run with id no-such-run\n',
      });
    }
  });

  it('an unknown format is a usage error (exit code 2)', async () => {
    const outcome = await runCli(['export', run.id, '--format', 'html'], run.env);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/argument 'html' is invalid\. Allowed choices are md, jsonl, openai/);
  });
});

describe('transcript of an encrypted run', () => {
  const keys = `T:${randomBytes(32).toString('base64')}`;

  it('decodes with PAYLOAD_KEYS, and without them says which key is missing', async () => {
    const run = await finishedRun(keys);
    const outcome = await runCli(['export', run.id, '--format', 'openai'], run.env);
    expect(outcome).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(outcome.stdout).messages).toEqual(run.messages);

    const { PAYLOAD_KEYS: _keys, ...withoutKeys } = run.env;
    const locked = await runCli(['transcript', run.id], withoutKeys);
    expect(locked).toEqual({
      code: 1,
      stdout: '',
      stderr: 'error: a payload is encrypted with key "T", but PAYLOAD_KEYS is not set here\n',
    });
  });
});

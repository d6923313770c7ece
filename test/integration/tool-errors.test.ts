/**
 * What a failing tool tells the model, and what the run's history keeps of it: a ToolError's message,
 * an exposed tool's message, and for anything else only that the tool failed, with no secret of the
 * exception and no path of this worker anywhere the model provider or a history reader can see.
 */
import { resolve } from 'node:path';
import { temporal } from '@temporalio/proto';
import { z } from 'zod';
import { defineAgent } from '../../src/agent';
import { ToolError } from '../../src/errors';
import { AgentRegistry } from '../../src/registry';
import { defineTool } from '../../src/tool';
import { byTurn, reply, startScriptedModel, type ScriptedModel } from '../../testing';
import type { ChatMessage } from '../../src/types';
import { startTestWorker, type TestWorker } from '../support/harness';

const EventType = temporal.api.enums.v1.EventType;
const REPO = resolve(__dirname, '../..');
const SECRETS = ['s3cret', 'sk-live-123', 'postgres://', 'db.internal'];

/** A permission error a library might raise: its class name is its Temporal failure type. */
class PermissionDenied extends Error {}

const retry = { maximumAttempts: 2, initialInterval: '100ms' };
/** Attempts each tool was called with, by tool name. */
const attempts: Record<string, number[]> = {};
const noArgs = z.object({});

function failingTool(name: string, error: () => unknown, options: { exposeErrors?: boolean } = {}) {
  return defineTool({
    name,
    description: `${name} (always fails)`,
    input: noArgs,
    retry: { ...retry, nonRetryableErrorTypes: ['PermissionDenied'] },
    ...options,
    execute: (_args, ctx) => {
      (attempts[name] ??= []).push(ctx.attempt);
      throw error();
    },
  });
}

const agent = defineAgent({
  name: 'failing-tools',
  instructions: 'Use the tools.',
  tools: [
    failingTool(
      'connect_db',
      () => new Error('connect failed: postgres://admin:s3cret@db.internal:5432/app key=sk-live-123'),
    ),
    failingTool('find_order', () => new ToolError('There is no order 9999.')),
    failingTool('parse_csv', () => new Error('line 3: expected 4 columns, found 2'), { exposeErrors: true }),
    failingTool('read_secret', () => new PermissionDenied('role reader may not read vault/prod/db')),
  ],
});

let model: ScriptedModel;
let worker: TestWorker;
/** What the model read for each call id, once the run is over. */
let toolErrors: Record<string, string>;
/** The run's history with every payload decoded, as text to search. */
let historyText: string;
let events: temporal.api.history.v1.IHistoryEvent[];

beforeAll(async () => {
  model = await startScriptedModel(
    byTurn([
      reply.tools(agent.tools.map((tool) => ({ id: tool.name, name: tool.name, args: {} }))),
      reply.text('Some tools failed.'),
    ]),
  );
  worker = await startTestWorker({ OPENAI_BASE_URL: model.baseUrl }, new AgentRegistry().add([agent], 'test'));
  const handle = await worker.start({ agent: agent.name, message: 'Check my order, please.' });
  expect(await handle.result()).toMatchObject({ status: 'completed', output: 'Some tools failed.', steps: 2 });
  const toolMessages = model.requests[1].messages.filter(
    (message): message is Extract<ChatMessage, { role: 'tool' }> => message.role === 'tool',
  );
  // Each error in words after `Error: `.
  for (const message of toolMessages) expect(message.content).toMatch(/^Error: /);
  toolErrors = Object.fromEntries(
    toolMessages.map((message) => [message.tool_call_id, message.content.slice('Error: '.length)]),
  );
  const history = await handle.fetchHistory();
  events = history.events ?? [];
  // A payload's `data` is base64 in the history's JSON: decode it, or a secret inside one would go unnoticed.
  historyText = JSON.stringify(history, (key, value) =>
    key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value,
  );
});
afterAll(async () => {
  await worker?.stop();
  await model?.close();
});

describe('a tool that throws', () => {
  it('anything but a ToolError tells the model only that it failed, after the retries its policy allows', () => {
    expect(toolErrors.connect_db).toBe('Tool connect_db failed: an unexpected error occurred');
    expect(attempts.connect_db).toEqual([1, 2]);
  });

  it("keeps the exception's text from every request the model received", () => {
    const requests = JSON.stringify(model.requests);
    expect(requests).toContain('Tool connect_db failed: an unexpected error occurred');
    for (const secret of SECRETS) expect(requests).not.toContain(secret);
  });

  it("keeps the exception's text from the run's history", () => {
    // The search sees inside payloads: the user's message is in the workflow's input payload.
    expect(historyText).toContain('Check my order, please.');
    for (const secret of SECRETS) expect(historyText).not.toContain(secret);
  });

  it('a ToolError reaches the model verbatim', () => {
    expect(toolErrors.find_order).toBe('Tool find_order failed: There is no order 9999.');
    expect(attempts.find_order).toEqual([1, 2]);
  });

  it('a tool with exposeErrors passes any message through', () => {
    expect(toolErrors.parse_csv).toBe('Tool parse_csv failed: line 3: expected 4 columns, found 2');
  });

  it("the tool's nonRetryableErrorTypes still match the exception's type: one attempt", () => {
    expect(toolErrors.read_secret).toBe('Tool read_secret failed: an unexpected error occurred');
    expect(attempts.read_secret).toEqual([1]);
  });

  it("records the failures with no stack trace and no path of this worker's files", () => {
    const failures = events
      .filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED)
      .map((event) => event.activityTaskFailedEventAttributes?.failure);
    expect(failures.map((failure) => failure?.applicationFailureInfo?.type).sort()).toEqual([
      'ToolError',
      'ToolFailed',
      'ToolFailed',
      'ToolFailed',
    ]);
    for (const failure of failures) expect(failure?.stackTrace ?? '').toBe('');
    expect(historyText).not.toContain(REPO);
  });
});

/**
 * Records the event histories the replay test guards: representative runs on a fresh dev server,
 * saved as JSON in a new folder per version (`npm run histories:record -- v2`). Record a new version
 * for a change that is meant to alter the command sequence (gated with `patched()`), and keep the old
 * folders: in-flight runs still have those histories.
 */
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { approvalUpdate, chatUpdate, endSignal, enqueueUpdate, messageSignal, stateQuery } from '../../src/contract';
import { finishedRun, recordHistories, settledRun, type Scenario, type ScenarioRun } from './saved-histories';
import { eventually } from '../support/eventually';
import { isSummaryRequest, lastOf, reply, type ModelRequest, type Reply, type Script } from '../../testing';

const awaitingApproval = (handle: WorkflowHandle) =>
  eventually(async () => (await handle.query(stateQuery)).pendingApprovals.length > 0, 'an approval');

/** Each scenario drives one run to its end; the model's script reacts to the last message. */
const scenarios: Record<string, ScenarioRun> = {
  'task-parallel-tools': finishedRun({ agent: 'helpdesk', message: 'parallel: where is order 1042?' }),
  'task-invalid-tool-calls': finishedRun({ agent: 'helpdesk', message: 'invalid: status please' }),
  'task-step-limit': finishedRun({ agent: 'helpdesk', message: 'loop: forever', limits: { maxSteps: 2 } }),
  'session-chat-signal-approval': async (start) => {
    const handle = await start({ agent: 'helpdesk', message: 'hello', mode: 'session', userId: 'ada' });
    await handle.executeUpdate(chatUpdate, { args: [{ text: 'how are you?' }] });
    await handle.signal(messageSignal, { text: 'refund: order 1042' });
    await awaitingApproval(handle);
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '3.1', approve: true }] });
    await handle.executeUpdate(approvalUpdate, { args: [{ callId: '3.2', approve: false, note: 'no' }] });
    await eventually(async () => (await handle.query(stateQuery)).status === 'awaiting_input', 'the turn to end');
    await handle.signal(endSignal);
    await handle.result();
  },
  'session-enqueue': async (start) => {
    const handle = await start({ agent: 'helpdesk', message: 'hello', mode: 'session', userId: 'ada' });
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'first queued' }] });
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'second queued' }] });
    await eventually(async () => {
      const state = await handle.query(stateQuery);
      return state.status === 'awaiting_input' && state.queuedMessages === 0 && state.step === 3;
    }, 'the queued messages to be answered');
    await handle.signal(endSignal);
    await handle.result();
  },
  'task-stuck': finishedRun({ agent: 'helpdesk', message: 'stuck: search the same thing' }),
  'task-wrap-up': finishedRun({ agent: 'helpdesk', message: 'research: everything', limits: { maxSteps: 3 } }),
  'task-fallback': finishedRun({
    agent: 'helpdesk',
    message: 'hello',
    model: 'primary',
    fallbackModels: ['gpt-4o-mini'],
  }),
  'task-approval-deadline': finishedRun({
    agent: 'helpdesk',
    message: 'refund: order 1042',
    limits: { maxDurationSeconds: 3 },
  }),
  'session-turn-budget-and-end-with-queue': async (start) => {
    const handle = await start({
      agent: 'helpdesk',
      message: 'research: everything',
      mode: 'session',
      limits: { maxSteps: 2 },
    });
    await handle.executeUpdate(chatUpdate, { args: [{ text: 'thanks' }] });
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'first queued' }] });
    await handle.executeUpdate(enqueueUpdate, { args: [{ text: 'second queued' }] });
    await handle.signal(endSignal);
    await handle.result();
  },
  'task-approval-timeout': finishedRun({ agent: 'helpdesk', message: 'refund: order 1042', approvalTimeoutSeconds: 1 }),
  'invalid-input': settledRun({ agent: 'helpdesk', message: '' }),
  // Its first workflow tasks fail (handed on to other workers) until the worker's wait, 2 s, passed.
  'unknown-agent': settledRun({ agent: 'nobody', message: 'hi' }),
  'task-approval-by-value-and-edits': async (start) => {
    // Two transfers: $50 runs unasked, $500 waits and is approved with edited arguments and a note.
    const handle = await start({ agent: 'bank', message: 'transfer: two payments' });
    await awaitingApproval(handle);
    const edited = { to: 'B-2', amountUsd: 150 };
    const decision = {
      callId: '1.2',
      approve: true,
      args: edited,
      note: '150 at most',
      decidedBy: 'ops',
      via: 'client',
    };
    await handle.executeUpdate(approvalUpdate, { args: [decision as never] });
    await handle.result();
  },
  // The model answers 503 to its first two requests: one call's 2 attempts, then a wait and a second call.
  'task-outage-waited': finishedRun({ agent: 'helpdesk', message: 'outage: are you there?' }),
  // Every request with tools gets llama-server's parse failure: three, then one without tools.
  'task-unparsed-answer-without-tools': finishedRun({ agent: 'helpdesk', message: 'unparsed: where is order 1042?' }),
  'session-context-exceeded': async (start) => {
    // A request past 5,000 bytes of messages gets llama-server's context-size 400: summarised, asked again.
    const handle = await start({ agent: 'helpdesk', message: 'window: hello', mode: 'session' });
    for (let turn = 1; turn <= 5; turn += 1) {
      await handle.executeUpdate(chatUpdate, { args: [{ text: `window note ${turn}: ${'detail '.repeat(150)}` }] });
    }
    await handle.signal(endSignal);
    await handle.result();
  },
};

/** Requests so far of each conversation, by its first message: the outage scenario answers by count. */
const outageRequests = new Map<string, number>();

/** llama-server's 400 for a request past its context size (`n_ctx`). */
function contextSizeRefusal(request: ModelRequest): Reply {
  const tokens = Math.ceil(JSON.stringify(request.messages).length / 4);
  const error = {
    code: 400,
    message: `request (${tokens} tokens) exceeds the available context size (1250 tokens), try increasing it`,
    type: 'exceed_context_size_error',
    n_prompt_tokens: tokens,
    n_ctx: 1250,
  };
  return reply.raw({ error }, { status: 400 });
}

/**
 * Scenarios of long runs, on a worker that continues runs as new past 20 KB of history (30 KB at the
 * latest: its history limit is 60 KB) and knows a model with a 2,000-token context window; each
 * records every run of its chain, so the histories hold the runs a continuation starts as well.
 */
const longRunScenarios: Record<string, Scenario<'longRun'>> = {
  'task-continue-mid-turn': {
    on: 'longRun',
    run: finishedRun({ agent: 'pager', message: 'Read: twelve pages', limits: { maxSteps: 20 } }),
  },
  'session-summary': {
    on: 'longRun',
    run: async (start) => {
      const handle = await start({ agent: 'helpdesk', message: 'hello', mode: 'session', model: 'small-window' });
      for (let turn = 1; turn <= 6; turn += 1) {
        await handle.executeUpdate(chatUpdate, { args: [{ text: `note ${turn}: ${'some detail '.repeat(60)}` }] });
      }
      await handle.signal(endSignal);
      await handle.result();
    },
  },
  'task-approval-continues-as-new': {
    on: 'longRun',
    run: async (start) => {
      const handle = await start({ agent: 'helpdesk', message: 'refund: order 1042' });
      await awaitingApproval(handle);
      const { runId } = await handle.describe();
      for (let signal = 0; signal < 30; signal += 1) {
        await handle.signal(messageSignal, { text: `noise ${signal} ${'x'.repeat(1_000)}` });
      }
      await eventually(async () => (await handle.describe()).runId !== runId, 'a continuation');
      await awaitingApproval(handle);
      await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1', approve: true }] });
      await handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.2', approve: false, note: 'no' }] });
      await handle.result();
    },
  },
  'memory-remember-then-recall': {
    on: 'longRun',
    run: async (start) => {
      const first = await start({ agent: 'concierge', message: 'remember: likes green tea', userId: 'ada' }, 'first');
      await first.result();
      const second = await start({ agent: 'concierge', message: 'hello', userId: 'ada' }, 'second');
      await second.result();
    },
  },
};

/** Scenarios recorded again on a worker with `LOCAL_ACTIVITIES=model,tools`, as `local-<name>`. */
const LOCAL_SCENARIOS = ['task-parallel-tools', 'task-invalid-tool-calls', 'session-chat-signal-approval'];

function answerTo(request: ModelRequest): Reply {
  const said = lastOf(request, 'user')?.content ?? '';
  const asked = request.messages.find((message) => message.role === 'user')?.content ?? '';
  if (isSummaryRequest(request)) return reply.text('Notes: the user shared six notes of detail.');
  if (asked.startsWith('outage')) {
    const seen = (outageRequests.get(asked) ?? 0) + 1;
    outageRequests.set(asked, seen);
    if (seen <= 2) return reply.error(503, 'loading model');
  }
  if (asked.startsWith('unparsed')) {
    return request.tools?.length ? reply.unparsed() : reply.text('I could not look it up: ask again later.');
  }
  if (asked.startsWith('window') && JSON.stringify(request.messages).length > 5_000) {
    return contextSizeRefusal(request);
  }
  if (request.model === 'primary') return reply.error(503, 'overloaded');
  if (said.startsWith('Read')) {
    const page = request.messages.filter((message) => message.role === 'assistant').length;
    return page < 12
      ? reply.tools([{ id: `page_${page}`, name: 'fetch_page', args: { page, chars: 2_000, cjk: false } }])
      : reply.text('Read twelve pages.');
  }
  const remember = /^remember: (.*)$/.exec(said);
  if (remember && request.messages.at(-1)?.role === 'user') {
    return reply.tools([{ name: 'remember', args: { fact: remember[1] } }]);
  }
  if (said.startsWith("[The run's")) return reply.text('What I found so far.');
  if (asked.startsWith('stuck')) return reply.tools([{ name: 'search_knowledge_base', args: { query: 'same' } }]);
  if (said.startsWith('research')) {
    return reply.tools([{ name: 'search_knowledge_base', args: { query: `topic ${request.messages.length}` } }]);
  }
  if (request.messages.at(-1)?.role === 'tool') return reply.text('Done.');
  if (said.startsWith('parallel')) {
    return reply.tools([
      { id: 'a', name: 'search_knowledge_base', args: { query: 'delayed' } },
      { id: 'b', name: 'lookup_order', args: { orderId: '1042' } },
    ]);
  }
  if (said.startsWith('invalid'))
    return reply.tools([
      { id: 'c', name: 'lookup_order', args: '{"orderId": 1' },
      { id: 'd', name: 'nope', args: {} },
    ]);
  if (said.startsWith('loop')) return reply.tools([{ name: 'search_knowledge_base', args: { query: 'loop' } }]);
  if (said.startsWith('transfer')) {
    return reply.tools([
      { name: 'transfer', args: { to: 'B-2', amountUsd: 50 } },
      { name: 'transfer', args: { to: 'B-2', amountUsd: 500 } },
    ]);
  }
  if (said.startsWith('refund')) {
    return reply.tools([
      { name: 'issue_refund', args: { orderId: '1042', amountUsd: 129, reason: 'late' } },
      { name: 'issue_refund', args: { orderId: '1046', amountUsd: 35, reason: 'damaged' } },
    ]);
  }
  return reply.text(`You said: ${said}`);
}

/** Usage as a provider reports it (about 4 bytes a token), so the run's token estimates are realistic. */
const script: Script = (request) => {
  const answer = answerTo(request);
  return answer.kind === 'message'
    ? { ...answer, usage: { input: Math.ceil(JSON.stringify(request.messages).length / 4), output: 20 } }
    : answer;
};

const version = process.argv[2];
if (!version || !/^v\d+$/.test(version))
  throw new Error('usage: npm run histories:record -- v<N> (a new version folder)');
recordHistories({
  folder: join(__dirname, version),
  script,
  workers: {
    worker: {
      env: {
        MODEL_MAX_ATTEMPTS: '2',
        AGENT_MODULES: 'helpdesk,test/fixtures/approval-bank-agent.mjs',
        UNKNOWN_AGENT_WAIT_SECONDS: '2',
      },
    },
    // Model and tool calls as local activities (the fast path): their commands differ from regular ones.
    local: { env: { MODEL_MAX_ATTEMPTS: '2', LOCAL_ACTIVITIES: 'model,tools' } },
    longRun: {
      env: {
        AGENT_MODULES: 'helpdesk,test/support/long-run-agent.ts',
        CONTINUE_AS_NEW_AT_BYTES: '20000',
        HISTORY_LIMIT_BYTES: '60000',
        MODEL_CONTEXT_WINDOWS: '{"small-window": 2000}',
      },
    },
  },
  scenarios: {
    ...longRunScenarios,
    ...scenarios,
    ...Object.fromEntries(
      LOCAL_SCENARIOS.map((name) => [`local-${name}`, { on: 'local' as const, run: scenarios[name] }]),
    ),
  },
});

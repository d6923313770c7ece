/**
 * The live line of a waiting command, from what `describe()` and the `state` query say (issue #12,
 * "No silent waits"); how it is kept on a terminal and off one; and the static summary and details a
 * run starts with.
 */
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { callsInFlight, type CallInFlight, type LiveDescription } from '../../client/calls-in-flight';
import { elapsed, formatProgress, LiveLinePrinter, liveLine, liveLineParts } from '../../cli/live-line';
import { staticDetails, staticSummary } from '../../client/run-details';
import { terminalSafe } from '../../src/terminal-text';
import { RunStatus, type AgentRunState } from '../../src/types';

const { PendingActivityState } = temporal.api.enums.v1;
const ID = 'helpdesk-1';
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);
const at = (ms: number) => msToTs(ms);

function state(overrides: Partial<AgentRunState> = {}): AgentRunState {
  return {
    status: RunStatus.running,
    agent: 'helpdesk',
    mode: 'task',
    step: 3,
    messages: [],
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0, costKnown: true, byModel: {} },
    pendingApprovals: [],
    queuedMessages: 0,
    ...overrides,
  };
}

function call(overrides: Partial<CallInFlight> = {}): CallInFlight {
  return {
    activityId: '7',
    type: 'callModel',
    summary: 'model gpt-4o-mini · step 3',
    attempt: 1,
    maximumAttempts: 5,
    running: true,
    sinceMs: NOW - 2_100,
    ...overrides,
  };
}

const described = (...calls: CallInFlight[]): LiveDescription => ({ workflowId: ID, calls });

describe('callsInFlight', () => {
  it("reads describe's pending activities: type, summary, attempt, since when, and the last failure's type and message", () => {
    const calls = callsInFlight(
      {
        pendingActivities: [
          {
            activityId: '7',
            activityType: { name: 'callModel' },
            state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
            attempt: 3,
            maximumAttempts: 5,
            scheduledTime: at(NOW - 500),
            lastStartedTime: at(NOW - 4_000),
            lastFailure: {
              message: 'model endpoint answered 500: boom',
              applicationFailureInfo: { type: 'ModelUnavailable' },
            },
          },
          {
            activityId: '8',
            activityType: { name: 'runTool' },
            state: PendingActivityState.PENDING_ACTIVITY_STATE_STARTED,
            attempt: 1,
            maximumAttempts: 0,
            scheduledTime: at(NOW - 900),
            lastStartedTime: at(NOW - 400),
          },
        ],
      },
      new Map([['8', 'tool lookup_order']]),
    );
    expect(calls).toEqual([
      {
        activityId: '7',
        type: 'callModel',
        attempt: 3,
        maximumAttempts: 5,
        running: false,
        sinceMs: NOW - 500,
        lastFailure: { type: 'ModelUnavailable', message: 'model endpoint answered 500: boom' },
      },
      {
        activityId: '8',
        type: 'runTool',
        summary: 'tool lookup_order',
        attempt: 1,
        maximumAttempts: 0,
        running: true,
        sinceMs: NOW - 400,
      },
    ]);
  });

  it('finds the ApplicationFailure under a wrapping failure', () => {
    const [only] = callsInFlight({
      pendingActivities: [
        {
          activityId: '1',
          activityType: { name: 'runTool' },
          attempt: 2,
          lastFailure: {
            message: 'wrapper',
            cause: { message: 'no such order', applicationFailureInfo: { type: 'NotFound' } },
          },
        },
      ],
    });
    expect(only.lastFailure).toEqual({ type: 'NotFound', message: 'no such order' });
    expect(callsInFlight({})).toEqual([]);
  });

  it('reads the task queue a call waits on, and a heartbeat timeout as a worker that stopped mid-call', () => {
    const [lost] = callsInFlight({
      pendingActivities: [
        {
          activityId: '5',
          activityType: { name: 'runTool' },
          state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
          attempt: 2,
          lastWorkerIdentity: '4242@tools-1',
          activityOptions: { taskQueue: { name: 'agents-tools' }, heartbeatTimeout: msToTs(10_000) },
          lastFailure: {
            message: 'activity Heartbeat timeout',
            timeoutFailureInfo: { timeoutType: temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_HEARTBEAT },
          },
        },
      ],
    });
    // The worker it lost is named: the server lists it polling for a minute more, and it does not count.
    expect(lost).toMatchObject({
      taskQueue: 'agents-tools',
      lostWorker: '4242@tools-1',
      lastFailure: { message: 'its worker stopped mid-call (no heartbeat within 10 s)', workerLost: true },
    });
  });
});

describe('a call the run asked to cancel', () => {
  // As describe() lists a tool call while its run is cancelled: the worker that took it still runs it.
  const cancelling = {
    activityId: '5',
    activityType: { name: 'runTool' },
    state: PendingActivityState.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED,
    attempt: 1,
    scheduledTime: at(NOW - 7_000),
    lastStartedTime: at(NOW - 6_700),
    lastWorkerIdentity: '4242@tools-1',
    lastHeartbeatTime: at(NOW - 200),
    activityOptions: { taskQueue: { name: 'agents-tools' } },
  };

  it('is running, cancel requested, since its worker took it: it waits for no worker', () => {
    const [taken] = callsInFlight({ pendingActivities: [cancelling] }, new Map([['5', 'tool lookup_order']]));
    expect(taken).toMatchObject({ running: true, cancelRequested: true, sinceMs: NOW - 6_700 });
    expect(liveLine({ ...described(taken), taskQueue: 'agents' }, state(), NOW)).toBe(
      'step 3 · running lookup_order (cancel requested) (6.7 s)',
    );
    expect(formatProgress({ callsInFlight: [taken], taskQueue: 'agents' }, NOW)).toEqual([
      'calls in flight:',
      '  tool lookup_order: running, cancel requested (6.7 s)',
    ]);
  });

  it('is running when the server names only the worker that took it', () => {
    const [taken] = callsInFlight({ pendingActivities: [{ ...cancelling, lastStartedTime: undefined }] });
    expect(taken).toMatchObject({ running: true, cancelRequested: true });
  });

  it('waits for a worker when none took it (a start time before the epoch is an unset one)', () => {
    const untaken = { ...cancelling, lastWorkerIdentity: '', lastStartedTime: at(-62_135_596_800_000) };
    const [waiting] = callsInFlight({ pendingActivities: [untaken] });
    expect(waiting).toMatchObject({ running: false, cancelRequested: true, sinceMs: NOW - 7_000 });
  });
});

describe('liveLine', () => {
  it('names the model being called, its step and for how long', () => {
    expect(liveLine(described(call()), state(), NOW)).toBe('step 3 · calling gpt-4o-mini (2.1 s)');
    expect(liveLineParts(described(call()), state())).toEqual({
      text: 'step 3 · calling gpt-4o-mini',
      sinceMs: NOW - 2_100,
    });
    // A fallback or a wrap-up says so; the step comes from the summary when no worker answered the query.
    expect(liveLine(described(call({ summary: 'model backup · step 4 · fallback · wrap-up' })), undefined, NOW)).toBe(
      'step 4 · calling backup (fallback, wrap-up) (2.1 s)',
    );
    expect(liveLine(described(call({ summary: 'summarize · step 5' })), state(), NOW)).toBe(
      'step 5 · summarizing the conversation (2.1 s)',
    );
  });

  it('names the tool running, with the step from the state', () => {
    const tool = call({ type: 'runTool', summary: 'tool lookup_order', sinceMs: NOW - 400 });
    expect(liveLine(described(tool), state(), NOW)).toBe('step 3 · running lookup_order (0.4 s)');
    const other = call({ activityId: '9', type: 'runTool', summary: 'tool check_stock', sinceMs: NOW - 300 });
    expect(liveLine(described(tool, other), state(), NOW)).toBe('step 3 · running lookup_order, check_stock (0.4 s)');
  });

  it('falls back on the activity type when the summary is not known', () => {
    expect(liveLine(described(call({ summary: undefined })), state(), NOW)).toBe('step 3 · calling the model (2.1 s)');
    expect(liveLine(described(call({ summary: undefined, type: 'runTool' })), state(), NOW)).toBe(
      'step 3 · running a tool (2.1 s)',
    );
    expect(liveLine(described(call({ summary: 'memory recall', type: 'recallMemory' })), state({ step: 0 }), NOW)).toBe(
      'memory recall (2.1 s)',
    );
  });

  it('never calls a call no worker has taken running: it names the queue and the worker to start', () => {
    const tool = call({ type: 'runTool', summary: 'tool get_balance', running: false, taskQueue: 'agents-tools' });
    expect(liveLine({ ...described({ ...tool, polled: false }), taskQueue: 'agents' }, state(), NOW)).toBe(
      'step 3 · tool get_balance waiting for a tools worker on agents-tools — WORKER_ROLE=tools npm run worker (2.1 s)',
    );
    // A queue a tool names itself is named in the command; a model call waits for a model worker.
    const model = call({ running: false, taskQueue: 'gpu', polled: false });
    expect(liveLine(described(model), state(), NOW)).toBe(
      'step 3 · model call waiting for a model worker on gpu — MODEL_TASK_QUEUE=gpu WORKER_ROLE=model npm run worker (2.1 s)',
    );
    // A worker polls the queue: about to take it, or busy; no worker to start.
    expect(liveLine(described({ ...tool, polled: true }), state(), NOW)).toBe(
      'step 3 · tool get_balance waiting for a tools worker on agents-tools (2.1 s)',
    );
    // A retry whose queue is polled waits for its backoff: nothing is added to its error.
    const retried = { ...tool, attempt: 2, polled: true, lastFailure: { message: 'flaky' } };
    expect(liveLine(described(retried), state(), NOW)).toBe(
      'step 3 · tool get_balance failing: attempt 2 of 5, last error: flaky',
    );
    // A call on the run's own queue (a run from before calls had queues) waits for any worker.
    expect(liveLine({ ...described({ ...tool, taskQueue: 'q', polled: false }), taskQueue: 'q' }, state(), NOW)).toBe(
      'step 3 · tool get_balance waiting for a worker on q — TASK_QUEUE=q npm run worker (2.1 s)',
    );
    // Beside one that runs; and without a queue from the server, only that it waits.
    const running = call({ activityId: '8', type: 'runTool', summary: 'tool lookup_order', sinceMs: NOW - 400 });
    expect(liveLine(described(running, { ...tool, taskQueue: undefined }), state(), NOW)).toBe(
      'step 3 · running lookup_order, tool get_balance waiting for a worker to take it (2.1 s)',
    );
  });

  it('says a worker stopped mid-call, and what the next attempt waits for', () => {
    const lost = call({
      type: 'runTool',
      summary: 'tool get_balance',
      attempt: 2,
      maximumAttempts: 3,
      running: false,
      taskQueue: 'agents-tools',
      polled: false,
      lastFailure: { message: 'its worker stopped mid-call (no heartbeat within 10 s)', workerLost: true },
    });
    expect(liveLine(described(lost), state(), NOW)).toBe(
      'step 3 · tool get_balance: its worker stopped mid-call (no heartbeat within 10 s); attempt 2 of 3 waiting ' +
        'for a tools worker on agents-tools — WORKER_ROLE=tools npm run worker',
    );
    expect(liveLine(described({ ...lost, running: true }), state(), NOW)).toBe(
      'step 3 · tool get_balance: its worker stopped mid-call (no heartbeat within 10 s); attempt 2 of 3 running',
    );
    expect(formatProgress({ callsInFlight: [lost] }, NOW)).toEqual([
      'calls in flight:',
      '  tool get_balance: its worker stopped mid-call (no heartbeat within 10 s); attempt 2 of 3 waiting for a ' +
        'tools worker on agents-tools — WORKER_ROLE=tools npm run worker',
    ]);
  });

  it("shows a call being retried: its attempt, the policy's maximum and the last error, on one bounded line", () => {
    const failing = call({
      attempt: 3,
      running: false,
      lastFailure: { type: 'ModelUnavailable', message: 'model endpoint answered 500: upstream\nis down' },
    });
    expect(liveLine(described(failing), state(), NOW)).toBe(
      'step 3 · model call failing: attempt 3 of 5, last error: ModelUnavailable: model endpoint answered 500: upstream is down',
    );
    // The clock is left out: off a terminal, a new line comes with each attempt, not each second.
    expect(liveLineParts(described(failing), state())?.sinceMs).toBeUndefined();
    const tool = call({
      type: 'runTool',
      summary: 'tool lookup_order',
      attempt: 2,
      maximumAttempts: 0,
      lastFailure: { message: 'x'.repeat(500) },
    });
    const line = liveLine(described(call({ activityId: '1' }), tool), state(), NOW)!;
    expect(line).toMatch(/^step 3 · tool lookup_order failing: attempt 2, last error: x+…$/);
    expect(line.length).toBeLessThan(220);
    // A first attempt that has not failed is no retry.
    expect(liveLine(described(call({ lastFailure: { message: 'old' } })), state(), NOW)).toBe(
      'step 3 · calling gpt-4o-mini (2.1 s)',
    );
  });

  it('puts an approval first, with the command that gives it', () => {
    const waiting = state({
      status: RunStatus.awaitingApproval,
      pendingApprovals: [{ callId: '2.1', tool: 'issue_refund', args: {} }],
    });
    expect(liveLine(described(call()), waiting, NOW)).toBe(
      `awaiting approval 2.1 issue_refund — durable-agents approve ${ID} 2.1`,
    );
    waiting.pendingApprovals.push({ callId: '2.2', tool: 'send_email', args: {} });
    expect(liveLine(described(), waiting, NOW)).toBe(
      `awaiting approval 2.1 issue_refund — durable-agents approve ${ID} 2.1 (and 1 more: durable-agents status ${ID})`,
    );
  });

  it('says a session waits for a message, and nothing between two steps or before the run answers', () => {
    expect(liveLine(described(), state({ status: RunStatus.awaitingInput }), NOW)).toBe(
      `awaiting a message — durable-agents send ${ID} "..."`,
    );
    expect(liveLine(described(), state(), NOW)).toBeUndefined();
    expect(liveLine(described(), undefined, NOW)).toBeUndefined();
  });

  it('counts minutes past the first', () => {
    expect(elapsed(NOW - 59_940, NOW)).toBe('59.9 s');
    expect(elapsed(NOW - 125_000, NOW)).toBe('2 min 5 s');
    // A clock behind the server's never shows a negative time.
    expect(elapsed(NOW + 500, NOW)).toBe('0.0 s');
  });
});

describe('formatProgress', () => {
  it("lists the calls in flight (a retried one with its attempt and error), then each step's usage", () => {
    const lines = formatProgress(
      {
        callsInFlight: [
          call({ attempt: 2, lastFailure: { type: 'ModelUnavailable', message: 'model endpoint answered 500: boom' } }),
          call({ activityId: '8', type: 'runTool', summary: 'tool lookup_order', sinceMs: NOW - 400 }),
          call({ activityId: '9', type: 'runTool', summary: undefined, running: false, sinceMs: NOW - 1_000 }),
        ],
        stepUsage: [
          { step: 1, model: 'gpt-4o-mini', inputTokens: 100, outputTokens: 20, costUsd: 0.000027, seconds: 0.5 },
        ],
      },
      NOW,
    );
    expect(lines).toEqual([
      'calls in flight:',
      '  model gpt-4o-mini · step 3: attempt 2 of 5, last error: ModelUnavailable: model endpoint answered 500: boom',
      '  tool lookup_order: running (0.4 s)',
      '  runTool: waiting for a worker (1.0 s)',
      'usage by step:',
      '  STEP   MODEL        IN   OUT  COST       LATENCY',
      '  1      gpt-4o-mini  100  20   $0.000027  0.50 s',
      '  total               100  20   $0.000027  0.50 s',
    ]);
    expect(formatProgress({}, NOW)).toEqual([]);
  });
});

describe('LiveLinePrinter', () => {
  const stream = (isTTY: boolean) => {
    const writes: string[] = [];
    return { isTTY, columns: 60, writes, write: (text: string) => writes.push(text) };
  };

  it('off a terminal writes a line when what it says changes, without the clock, never twice in a row', () => {
    const out = stream(false);
    let now = NOW;
    const printer = new LiveLinePrinter(out, () => now);
    printer.note('waiting: a worker is polling task queue "agents" now');
    printer.show(described(call()), state());
    now += 1_000;
    printer.show(described(call()), state());
    const approval = `awaiting approval 3.1 issue_refund — durable-agents approve ${ID} 3.1`;
    // The notice says it first; the live line does not repeat it.
    printer.note(approval);
    printer.show(described(), state({ pendingApprovals: [{ callId: '3.1', tool: 'issue_refund', args: {} }] }));
    printer.show(described(), state());
    printer.show(described(call({ type: 'runTool', summary: 'tool issue_refund' })), state());
    printer.stop();
    expect(out.writes.join('')).toBe(
      [
        'waiting: a worker is polling task queue "agents" now',
        'step 3 · calling gpt-4o-mini',
        approval,
        'step 3 · running issue_refund',
        '',
      ].join('\n'),
    );
  });

  it('on a terminal rewrites one line in place, keeps notices above it, ticks its clock and clears it at the end', () => {
    const out = stream(true);
    let now = NOW;
    const printer = new LiveLinePrinter(out, () => now, 0);
    printer.show(described(call()), state());
    now += 1_000;
    printer.show(described(call()), state());
    printer.note('waiting: a worker is polling task queue "agents" now');
    // Cut to the terminal's width: a wrapped line could not be rewritten.
    printer.show(described(call({ summary: `model ${'m'.repeat(80)} · step 3` })), state());
    // The approval's notice stays above; the live line does not say it again below.
    const approval = `awaiting approval 3.1 issue_refund — durable-agents approve ${ID} 3.1`;
    printer.note(approval);
    printer.show(described(), state({ pendingApprovals: [{ callId: '3.1', tool: 'issue_refund', args: {} }] }));
    printer.stop();
    expect(out.writes).toEqual([
      '\r\x1b[2Kstep 3 · calling gpt-4o-mini (2.1 s)',
      '\r\x1b[2Kstep 3 · calling gpt-4o-mini (3.1 s)',
      '\r\x1b[2Kwaiting: a worker is polling task queue "agents" now\n',
      '\r\x1b[2Kstep 3 · calling gpt-4o-mini (3.1 s)',
      `\r\x1b[2Kstep 3 · calling ${'m'.repeat(41)}…`,
      `\r\x1b[2K${approval}\n`,
      `\r\x1b[2Kstep 3 · calling ${'m'.repeat(41)}…`,
      '\r\x1b[2K',
    ]);
    expect(out.writes[4].length - '\r\x1b[2K'.length).toBe(59);
  });

  it("shows a run's names and errors with their control characters as escapes, on a terminal and off it (#21)", () => {
    const hostile = 'x\x1b[2J\x1b]0;pwned\x07\x9b31m';
    const inert = terminalSafe(hostile);
    const failing = call({ summary: `model ${hostile} · step 3`, attempt: 2, lastFailure: { message: hostile } });
    for (const isTTY of [true, false]) {
      const out = stream(isTTY);
      const printer = new LiveLinePrinter({ ...out, columns: 200 }, () => NOW, 0);
      printer.note(`waiting: ${hostile}`);
      printer.show(described(failing), state());
      printer.stop();
      const written = out.writes.join('').replaceAll('\r\x1b[2K', '');
      // Nothing left to make inert but the line's own clearing.
      expect(terminalSafe(written)).toBe(written);
      expect(written).toContain(`waiting: ${inert}\n`);
      expect(written).toContain(`step 3 · model call failing: attempt 2 of 5, last error: ${inert}`);
    }
  });
});

describe('static summary and details', () => {
  it('summarise the run in one line: the agent and the first 60 characters of its message', () => {
    expect(staticSummary({ agent: 'helpdesk', message: 'Where is\norder 1042?' })).toBe(
      'helpdesk: Where is order 1042?',
    );
    expect(staticSummary({ agent: 'helpdesk', message: 'a'.repeat(100) })).toBe(`helpdesk: ${'a'.repeat(57)}...`);
  });

  it('detail the first message (bounded), agent, model, mode, user and limits in markdown', () => {
    expect(
      staticDetails({
        agent: 'helpdesk',
        message: 'Refund ```order``` 1042',
        model: 'gpt-4o',
        fallbackModels: ['backup'],
        mode: 'session',
        userId: 'ada',
        limits: { maxSteps: 5, maxCostUsd: 0.5, lifetime: { maxTokens: 10_000 } },
        idleTimeoutSeconds: 600,
      }),
    ).toBe(
      [
        '**First message**',
        '',
        '````',
        'Refund ```order``` 1042',
        '````',
        '',
        '- agent: `helpdesk`',
        '- model: `gpt-4o`',
        '- fallback models: `backup`',
        '- mode: session',
        '- user: `ada`',
        '- limits: maxSteps 5, maxCostUsd 0.5',
        '- lifetime limits: maxTokens 10000',
        '- timeouts: idleTimeoutSeconds 600',
      ].join('\n'),
    );
    const long = staticDetails({ agent: 'helpdesk', message: 'é'.repeat(5_000) });
    expect(long).toContain(`\n${'é'.repeat(1_024)}…\n`);
    expect(long.endsWith('- agent: `helpdesk`\n- mode: task')).toBe(true);
  });
});

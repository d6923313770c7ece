import {
  connectionCause,
  listQuery,
  reportedStatus,
  type RunReport,
  type RunSummary,
  type WaitNotice,
} from '../../client/agent-client';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import { SHOWN_STATUSES } from '../../client/run-status';
import {
  formatMessage,
  formatReport,
  formatResult,
  formatRunList,
  formatRunTranscript,
  formatState,
  formatSteps,
  formatTranscript,
  formatUsage,
  formatWaitNotice,
} from '../../cli/format';
import { transcriptFromHistory, type RunTranscript } from '../../client/history-transcript';
import { exportJsonl, exportMarkdown, exportOpenAi } from '../../cli/export-writers';
import { startWorkerHint } from '../../client/shell-hints';
import { WaitTeller } from '../../client/waiting';
import { terminalSafe } from '../../src/terminal-text';
import { RunStatus, type AgentRunState, type ChatMessage, type Usage } from '../../src/types';

describe('listQuery', () => {
  const runs = 'WorkflowType = "agentRun" AND ExecutionStatus != "ContinuedAsNew" AND ParentWorkflowId IS NULL';

  it('matches agent runs at the root of their trees, one per chain, when no filter is given', () => {
    expect(listQuery({})).toBe(runs);
  });

  it("with all, sub-agents' runs too", () => {
    expect(listQuery({ all: true })).toBe('WorkflowType = "agentRun" AND ExecutionStatus != "ContinuedAsNew"');
  });

  it('ANDs status, agent and user filters in that order; a live status only matches open runs', () => {
    expect(listQuery({ user: 'u7', agent: 'helpdesk', status: 'awaiting_approval', limit: 5 })).toBe(
      `${runs} AND AgentStatus = "awaiting_approval" AND ExecutionStatus = "Running" AND AgentName = "helpdesk" AND AgentUser = "u7"`,
    );
  });

  it('matches a closed status also on runs that closed without saying it, by how their execution ended', () => {
    const unsaid =
      'AgentStatus IS NULL OR AgentStatus IN ("starting", "running", "awaiting_input", "awaiting_approval")';
    expect(listQuery({ status: 'completed' })).toBe(
      `${runs} AND (AgentStatus = "completed" OR (ExecutionStatus = "Completed" AND (${unsaid})))`,
    );
    // Statuses only Temporal's own can give: a run terminated or timed out ran no code to say so.
    expect(listQuery({ status: 'terminated' })).toBe(
      `${runs} AND (AgentStatus = "terminated" OR (ExecutionStatus = "Terminated" AND (${unsaid})))`,
    );
    expect(listQuery({ status: 'timed_out' })).toContain('OR (ExecutionStatus = "TimedOut" AND (');
    expect(listQuery({ status: 'stuck' })).toBe(`${runs} AND AgentStatus = "stuck"`);
  });

  it('matches starting also on open runs that have not said a status yet', () => {
    expect(listQuery({ status: 'starting' })).toBe(
      `${runs} AND (AgentStatus = "starting" OR AgentStatus IS NULL) AND ExecutionStatus = "Running"`,
    );
  });

  it('takes every status a listed run can show', () => {
    // A chain is listed by its latest execution: never one that continued as new, nor its status.
    const executions: WorkflowExecutionStatusName[] = [
      'RUNNING',
      'COMPLETED',
      'FAILED',
      'CANCELLED',
      'TERMINATED',
      'TIMED_OUT',
    ];
    const attributes = [undefined, ...Object.values(RunStatus).filter((status) => status !== RunStatus.continued)];
    const shown = executions.flatMap((execution) => attributes.map((value) => reportedStatus(value, execution)));
    expect(new Set(SHOWN_STATUSES)).toEqual(new Set(shown));
  });

  it('escapes quotes and backslashes inside values', () => {
    expect(listQuery({ user: 'a"b\\c' })).toBe(`${runs} AND AgentUser = "a\\"b\\\\c"`);
  });

  it('ignores empty filter values', () => {
    expect(listQuery({ status: '', agent: '', user: '' })).toBe(runs);
  });
});

describe('reportedStatus', () => {
  it.each<[string | undefined, WorkflowExecutionStatusName, string]>([
    ['awaiting_approval', 'RUNNING', 'awaiting_approval'],
    [undefined, 'RUNNING', 'starting'],
    ['cancelled', 'CANCELLED', 'cancelled'],
    ['stuck', 'COMPLETED', 'stuck'],
    // Terminated runs ran no code to say so: their last status is stale.
    ['awaiting_approval', 'TERMINATED', 'terminated'],
    ['running', 'TIMED_OUT', 'timed_out'],
    ['awaiting_input', 'CONTINUED_AS_NEW', 'continued'],
    [undefined, 'FAILED', 'failed'],
  ])('shows %s on a %s run as %s', (attribute, execution, expected) => {
    expect(reportedStatus(attribute, execution)).toBe(expected);
  });
});

describe('formatMessage and formatTranscript', () => {
  const transcript: ChatMessage[] = [
    { role: 'system', content: 'You are a helpdesk.' },
    { role: 'user', content: 'Refund order 42' },
    {
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'c1', type: 'function', function: { name: 'lookup_order', arguments: '{"id":42}' } },
        { id: 'c2', type: 'function', function: { name: 'refund', arguments: '{"id":42}' } },
      ],
    },
    { role: 'tool', tool_call_id: 'c1', content: '{"status":"shipped"}' },
    { role: 'assistant', content: 'Done.' },
  ];

  it('leaves out the system prompt', () => {
    expect(formatMessage(transcript[0])).toBeUndefined();
  });

  it('renders user text, tool calls as "  → name(args)", tool results and answers', () => {
    expect(formatTranscript(transcript)).toBe(
      [
        'user: Refund order 42',
        '  → lookup_order({"id":42})',
        '  → refund({"id":42})',
        '  ← {"status":"shipped"}',
        'assistant: Done.',
      ].join('\n'),
    );
  });

  it('shows assistant text before its tool calls', () => {
    const message: ChatMessage = {
      role: 'assistant',
      content: 'Let me check.',
      tool_calls: [{ id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
    };
    expect(formatMessage(message)).toBe('assistant: Let me check.\n  → lookup({})');
  });

  it.each([
    [300, false],
    [301, true],
    [5000, true],
  ])('a %i-character tool result is cut: %s', (length, cut) => {
    const content = 'x'.repeat(length);
    const line = formatMessage({ role: 'tool', tool_call_id: 'c1', content })!;
    const shown = line.slice('  ← '.length);
    expect(line.startsWith('  ← ')).toBe(true);
    expect(shown).toHaveLength(Math.min(length, 300));
    expect(shown.endsWith('...')).toBe(cut);
  });
});

describe('run summaries', () => {
  const usage: Usage = { inputTokens: 120, outputTokens: 30, totalTokens: 150, costUsd: 0.0123456, costKnown: true };

  it('formatUsage shows tokens and a six-decimal cost, flagging unpriced models', () => {
    expect(formatUsage(usage)).toBe('150 tokens (120 in, 30 out), $0.012346');
    expect(formatUsage({ ...usage, costKnown: false })).toBe(
      '150 tokens (120 in, 30 out), $0.012346 (some models unpriced)',
    );
  });

  it('formatResult shows the output, then status, limit and usage', () => {
    const text = formatResult({
      status: 'limit_reached',
      limit: 'maxSteps',
      output: 'Partial answer',
      steps: 3,
      usage,
    });
    expect(text.split('\n')).toEqual([
      'Partial answer',
      '',
      `status: limit_reached (maxSteps) · steps: 3 · ${formatUsage(usage)}`,
    ]);
  });

  it('formatResult names what a stuck run repeated and the messages a session left unanswered', () => {
    const text = formatResult({
      status: 'stuck',
      output: 'Stopped without an answer.',
      reason: 'the model repeated the tool call lookup {"id":1} 4 times in a row',
      unansweredMessages: ['and the other order?'],
      steps: 4,
      usage,
    });
    expect(text.split('\n')).toEqual([
      'Stopped without an answer.',
      '',
      `status: stuck · steps: 4 · ${formatUsage(usage)}`,
      'reason: the model repeated the tool call lookup {"id":1} 4 times in a row',
      'unanswered messages:',
      '  and the other order?',
    ]);
  });

  it('formatState lists pending approvals and queued messages only when there are any', () => {
    const state: AgentRunState = {
      status: 'awaiting_approval',
      agent: 'helpdesk',
      mode: 'session',
      userId: 'u1',
      step: 2,
      messages: [],
      usage,
      pendingApprovals: [{ callId: '2.1', tool: 'refund', args: { id: 42 } }],
      queuedMessages: 1,
    };
    expect(formatState(state).split('\n')).toEqual([
      'status: awaiting_approval',
      'agent: helpdesk (session), user u1',
      'steps: 2',
      `usage: ${formatUsage(usage)}`,
      'queued messages: 1',
      'pending approvals:',
      '  2.1  refund {"id":42}',
    ]);
    const idle = formatState({ ...state, userId: undefined, pendingApprovals: [], queuedMessages: 0 });
    expect(idle).not.toMatch(/queued|pending|user/);
  });

  it('formatRunList says "no runs" for an empty list', () => {
    expect(formatRunList([])).toBe('no runs');
  });

  it('formatRunList prints a header and aligned columns', () => {
    const runs: RunSummary[] = [
      {
        workflowId: 'agent-run-1',
        status: 'completed',
        agent: 'helpdesk',
        user: 'u1',
        steps: 3,
        tokens: 1234,
        costUsd: 0.000027,
        startTime: new Date('2025-01-02T03:04:05.000Z'),
        closed: true,
      },
      { workflowId: 'r2', status: 'running', startTime: new Date('2025-01-03T00:00:00.000Z'), closed: false },
    ];
    const lines = formatRunList(runs).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0].split(/\s+/)).toEqual(['ID', 'STATUS', 'AGENT', 'USER', 'STEPS', 'TOKENS', 'COST', 'STARTED']);
    // The cost as `status` shows it, six decimals.
    expect(lines[1].split(/\s+/)).toEqual([
      'agent-run-1',
      'completed',
      'helpdesk',
      'u1',
      '3',
      '1234',
      '$0.000027',
      '2025-01-02T03:04:05.000Z',
    ]);
    expect(lines[2].split(/\s+/)).toEqual(['r2', 'running', '0', '0', '$0.000000', '2025-01-03T00:00:00.000Z']);
    // Every column starts at the same offset on every line.
    for (const title of ['STATUS', 'AGENT', 'STEPS', 'COST', 'STARTED']) {
      const column = lines[0].indexOf(title);
      expect(lines[1][column - 1]).toBe(' ');
      expect(lines[1][column]).not.toBe(' ');
    }
    expect(lines[2].indexOf('running')).toBe(lines[0].indexOf('STATUS'));
    expect(lines.every((line) => line === line.trimEnd())).toBe(true);
  });

  it('formatRunList and formatSteps show control characters in names as escapes, columns still aligned (#21)', () => {
    const hostile = '\x1b[2Jx\r';
    const started = new Date('2025-01-02T03:04:05.000Z');
    const runs: RunSummary[] = [
      { workflowId: 'r1', status: 'running', agent: hostile, user: 'u1', startTime: started, closed: false },
      { workflowId: 'r2', status: 'running', agent: 'helpdesk', user: 'u2', startTime: started, closed: false },
    ];
    const lines = formatRunList(runs).split('\n');
    expect(lines[1].split(/\s+/)[2]).toBe('\\u001b[2Jx\\u000d');
    expect(lines[1].indexOf('u1')).toBe(lines[0].indexOf('USER'));
    expect(lines[2].indexOf('u2')).toBe(lines[0].indexOf('USER'));
    const step = { step: 1, model: hostile, inputTokens: 1, outputTokens: 2, costUsd: 0, seconds: 1 };
    const [header, row] = formatSteps([step]).split('\n');
    expect(row.indexOf(' 1 ')).toBe(header.indexOf('IN') - 1);
    expect(terminalSafe(`${header}${row}`)).toBe(`${header}${row}`);
  });
});

describe('what waiting commands say', () => {
  it('names the task queue and how to start a worker for it', () => {
    expect(startWorkerHint('agents')).toBe('start one: npm run worker');
    expect(startWorkerHint('gpu-tools')).toBe('start one: TASK_QUEUE=gpu-tools npm run worker');
    expect(startWorkerHint("it's mine")).toBe(`start one: TASK_QUEUE='it'\\''s mine' npm run worker`);
  });

  it.each<[WaitNotice, string]>([
    [
      { type: 'no_worker', taskQueue: 'agents', missing: ['workflow', 'activity'] },
      'waiting: no worker is polling task queue "agents" (start one: npm run worker)',
    ],
    [
      { type: 'no_worker', taskQueue: 'q', missing: ['activity'] },
      'waiting: no worker is polling task queue "q" for activities (start one: TASK_QUEUE=q npm run worker)',
    ],
    [
      { type: 'no_answer', taskQueue: 'agents', waitedMs: 12_000 },
      'waiting: the run has not answered for 12 s; a worker polled task queue "agents" within the last minute ' +
        '(busy, or stopped since; if none runs, start one: npm run worker)',
    ],
    [{ type: 'worker_found', taskQueue: 'agents' }, 'waiting: a worker is polling task queue "agents" now'],
    [
      {
        type: 'awaiting_approval',
        workflowId: 'helpdesk-1',
        pendingApprovals: [
          { callId: '1.1', tool: 'issue_refund', args: {} },
          { callId: '1.2', tool: 'close_account', args: {} },
        ],
      },
      'awaiting approval 1.1 issue_refund — durable-agents approve helpdesk-1 1.1\n' +
        'awaiting approval 1.2 close_account — durable-agents approve helpdesk-1 1.2',
    ],
  ])('formatWaitNotice(%j)', (notice, line) => {
    expect(formatWaitNotice(notice)).toBe(line);
  });

  it('WaitTeller tells changes only, and each approval once', () => {
    const told: WaitNotice[] = [];
    const teller = new WaitTeller('run-1', 'q', (notice) => told.push(notice));
    const none = { taskQueue: 'q', workflow: false, activity: false };
    const both = { taskQueue: 'q', workflow: true, activity: true };
    teller.saw(both, true, 2_000);
    expect(told).toEqual([]);
    teller.saw(none, true, 2_000);
    teller.saw(none, true, 2_000);
    teller.saw(undefined, true, 2_000);
    expect(told).toEqual([{ type: 'no_worker', taskQueue: 'q', missing: ['workflow', 'activity'] }]);
    // A worker that is slow to answer is not accused: unanswered is told once it has lasted 10 s.
    const at = Date.now();
    teller.saw(both, false, 2_000, at);
    teller.saw(both, false, 2_000, at + 5_000);
    expect(told).toHaveLength(1);
    teller.saw(both, false, 2_000, at + 8_000);
    teller.saw(both, false, 2_000, at + 11_000);
    teller.saw(both, true, 2_000, at + 14_000);
    teller.saw(both, true, 2_000, at + 17_000);
    expect(told.slice(1)).toEqual([
      { type: 'no_answer', taskQueue: 'q', waitedMs: 10_000 },
      { type: 'worker_found', taskQueue: 'q' },
    ]);
    // One that answers within the 10 s is never said to be missing.
    const quiet: WaitNotice[] = [];
    const patient = new WaitTeller('run-2', 'q', (notice) => quiet.push(notice));
    patient.saw(both, false, 2_000, at);
    patient.saw(both, false, 2_000, at + 7_000);
    patient.saw(both, true, 2_000, at + 9_000);
    expect(quiet).toEqual([]);
    const refund = { callId: '1.1', tool: 'issue_refund', args: {} };
    const close = { callId: '1.2', tool: 'close_account', args: {} };
    teller.awaiting([refund]);
    teller.awaiting([refund, close]);
    teller.awaiting([]);
    expect(told.slice(3)).toEqual([
      { type: 'awaiting_approval', workflowId: 'run-1', pendingApprovals: [refund] },
      { type: 'awaiting_approval', workflowId: 'run-1', pendingApprovals: [close] },
    ]);
  });

  it('WaitTeller tells of half a worker (workflow tasks or activities only) when two checks in a row see it', () => {
    const told: WaitNotice[] = [];
    const teller = new WaitTeller('run-1', 'q', (notice) => told.push(notice));
    const none = { taskQueue: 'q', workflow: false, activity: false };
    const workflowsOnly = { taskQueue: 'q', workflow: true, activity: false };
    const both = { taskQueue: 'q', workflow: true, activity: true };
    teller.saw(none, false, 1_000);
    // A worker starting up: for one check it polls for workflow tasks only.
    teller.saw(workflowsOnly, false, 1_000);
    teller.saw(both, true, 1_000);
    expect(told).toEqual([
      { type: 'no_worker', taskQueue: 'q', missing: ['workflow', 'activity'] },
      { type: 'worker_found', taskQueue: 'q' },
    ]);
    // A fleet with no activity workers: told on the second check.
    teller.saw(workflowsOnly, true, 1_000);
    expect(told).toHaveLength(2);
    teller.saw(workflowsOnly, true, 1_000);
    expect(told.at(-1)).toEqual({ type: 'no_worker', taskQueue: 'q', missing: ['activity'] });
  });
});

describe('connectionCause', () => {
  it.each([
    [
      {
        code: 14,
        details: 'No connection established. Last error: Error: connect ECONNREFUSED 127.0.0.1:1. Resolution note: ',
      },
      'connection refused',
    ],
    [{ code: 14, details: 'Name resolution failed for target dns:no-such-host.invalid:7233' }, 'host not found'],
    [
      { code: 14, details: 'No connection established. Last error: Error: connect EHOSTUNREACH 10.0.0.1:7233' },
      'host unreachable',
    ],
    [{ code: 4, details: 'Deadline exceeded after 5.001s' }, 'no answer within 5 s'],
    [
      { code: 14, details: 'No connection established. Last error: Error: read ECONNABORTED. Resolution note: dns ok' },
      'read ECONNABORTED',
    ],
    [new Error('14 UNAVAILABLE: something else'), 'something else'],
    // A worker's connection (the Rust core) fails with debug strings: read, never shown.
    [
      new Error(
        'tonic::transport::Error(Transport, ConnectError(ConnectError("tcp connect error", 127.0.0.1:1, ' +
          'Os { code: 111, kind: ConnectionRefused, message: "Connection refused" })))',
      ),
      'connection refused',
    ],
    [
      new Error(
        'tonic::transport::Error(Transport, ConnectError(ConnectError("dns error", Custom { kind: Uncategorized, ' +
          'error: "failed to lookup address information: Name or service not known" })))',
      ),
      'host not found',
    ],
    [
      new Error(
        'tonic::transport::Error(Transport, hyper::Error(Io, Custom { kind: InvalidData, error: "corrupt frame" }))',
      ),
      'corrupt frame',
    ],
  ])('%j is "%s"', (error, cause) => {
    expect(connectionCause(error)).toBe(cause);
  });
});

describe('formatReport', () => {
  const base: RunReport = {
    workflowId: 'run-1',
    status: 'failed',
    closed: true,
    taskQueue: 'agents',
    agent: 'helpdesk',
    step: 2,
    tokens: 240,
    costUsd: 0.00012,
    startTime: new Date('2025-01-02T03:04:05.000Z'),
    closeTime: new Date('2025-01-02T03:05:00.000Z'),
  };

  it('shows a run that closed without a result from its search attributes', () => {
    expect(formatReport(base).split('\n')).toEqual([
      'status: failed',
      'agent: helpdesk',
      'steps: 2',
      'usage: 240 tokens, $0.000120',
      'closed: 2025-01-02T03:05:00.000Z',
    ]);
  });

  it("shows a finished run's limit, usage and reason from its result", () => {
    const usage: Usage = { inputTokens: 200, outputTokens: 40, totalTokens: 240, costUsd: 0.0001, costKnown: true };
    const result = { status: 'stuck' as const, output: '', steps: 2, usage, reason: 'repeated lookup' };
    expect(formatReport({ ...base, status: 'stuck', userId: 'ada', usage, result }).split('\n')).toEqual([
      'status: stuck',
      'agent: helpdesk, user ada',
      'steps: 2',
      `usage: ${formatUsage(usage)}`,
      'reason: repeated lookup',
      'closed: 2025-01-02T03:05:00.000Z',
    ]);
    const limited = { ...result, status: 'limit_reached' as const, limit: 'maxSteps' as const, reason: undefined };
    expect(formatReport({ ...base, status: 'limit_reached', result: limited }).split('\n')[0]).toBe(
      'status: limit_reached (maxSteps)',
    );
  });

  it('shows an open run without a worker as far as it recorded, without a close time', () => {
    const open = {
      ...base,
      status: 'starting',
      closed: false,
      closeTime: undefined,
      agent: undefined,
      step: undefined,
    };
    expect(formatReport({ ...open, tokens: undefined, costUsd: undefined })).toBe(
      'status: starting\nsteps: 0\nusage: 0 tokens, $0.000000',
    );
  });
});

describe('transcripts from history', () => {
  const system: ChatMessage = { role: 'system', content: 'You help.' };
  const user: ChatMessage = { role: 'user', content: 'Where is order 1042?' };
  const call = (id: string, name: string) => ({ id, type: 'function' as const, function: { name, arguments: '{}' } });
  const asking: ChatMessage = {
    role: 'assistant',
    content: null,
    tool_calls: [call('c1', 'lookup'), call('c2', 'track')],
  };
  let eventId = 0;
  /** A history event at `second`; payloads are the values themselves (the test's `decode` returns them). */
  const event = (second: number, attributes: Record<string, unknown>) => ({
    eventId: ++eventId,
    eventTime: { seconds: 1_700_000_000 + Math.floor(second), nanos: Math.round((second % 1) * 1e9) },
    ...attributes,
  });
  const scheduled = (second: number, type: string, input: unknown) =>
    event(second, {
      activityTaskScheduledEventAttributes: { activityType: { name: type }, input: { payloads: [input] } },
    });
  const completed = (second: number, scheduledEventId: number, result: unknown) =>
    event(second, { activityTaskCompletedEventAttributes: { scheduledEventId, result: { payloads: [result] } } });
  const modelResult = (message: ChatMessage, inputTokens: number, outputTokens: number, costUsd: number) => ({
    model: 'gpt-4o-mini',
    message,
    inputTokens,
    outputTokens,
    costUsd,
  });
  const decode = async (payload: unknown) => payload;

  it("is the last model call's messages, its answer and the tool results after it, in call order", async () => {
    eventId = 0;
    const events = [
      event(0, { workflowExecutionStartedEventAttributes: {} }),
      scheduled(1, 'callModel', { step: 1, model: 'gpt-4o-mini', messages: [system, user], tools: [] }), // 2
      completed(1.5, 2, modelResult(asking, 100, 20, 0.001)), // 3
      // The calls finish out of order; the second one failed.
      scheduled(2, 'runTool', { callId: '1.1', tool: 'lookup' }), // 4
      scheduled(2, 'runTool', { callId: '1.2', tool: 'track' }), // 5
      completed(2.2, 5, { ok: false, error: 'no tracking' }),
      completed(2.4, 4, { ok: true, content: '{"status":"delayed"}' }),
    ];
    const transcript = await transcriptFromHistory(events as never, decode as never);
    expect(transcript.messages).toEqual([
      system,
      user,
      asking,
      { role: 'tool', tool_call_id: 'c1', content: '{"status":"delayed"}' },
      { role: 'tool', tool_call_id: 'c2', content: 'Error: no tracking' },
    ]);
    expect(transcript.steps).toEqual([
      { step: 1, model: 'gpt-4o-mini', inputTokens: 100, outputTokens: 20, costUsd: 0.001, seconds: 0.5 },
    ]);
    expect(transcript.usage).toEqual({ inputTokens: 100, outputTokens: 20, totalTokens: 120, costUsd: 0.001 });

    // A later call that never completed: its messages stand, with no answer and no usage.
    const later = [
      ...events,
      scheduled(3, 'callModel', { step: 2, model: 'gpt-4o', messages: transcript.messages, tools: [] }),
    ];
    const unanswered = await transcriptFromHistory(later as never, decode as never);
    expect(unanswered.messages).toEqual(transcript.messages);
    expect(unanswered).toMatchObject({ model: 'gpt-4o', steps: transcript.steps });
  });

  it('is empty for a run that never called the model', async () => {
    expect(await transcriptFromHistory([], decode as never)).toEqual({
      messages: [],
      steps: [],
      usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
      tools: [],
      approvals: [],
    });
  });

  const transcript: RunTranscript = {
    workflowId: 'run-1',
    agent: 'helpdesk',
    status: 'completed',
    model: 'gpt-4o-mini',
    tools: [{ name: 'lookup', description: 'Looks up', parameters: { type: 'object' } }],
    messages: [
      user,
      { role: 'tool', tool_call_id: 'c1', content: 'a ``` fence' },
      { role: 'assistant', content: 'Done.' },
    ],
    steps: [
      { step: 1, model: 'gpt-4o-mini', inputTokens: 100, outputTokens: 20, costUsd: 0.000027, seconds: 0.5 },
      { step: 2, model: 'gpt-4o', inputTokens: 300, outputTokens: 10, costUsd: 0.00085, seconds: 1.25 },
    ],
    usage: { inputTokens: 400, outputTokens: 30, totalTokens: 430, costUsd: 0.000877 },
    approvals: [],
  };

  it('shows the steps as a table with totals after the messages', () => {
    expect(formatSteps(transcript.steps).split('\n')).toEqual([
      'STEP   MODEL        IN   OUT  COST       LATENCY',
      '1      gpt-4o-mini  100  20   $0.000027  0.50 s',
      '2      gpt-4o       300  10   $0.000850  1.25 s',
      'total               400  30   $0.000877  1.75 s',
    ]);
    expect(formatRunTranscript(transcript)).toBe(
      `${formatTranscript(transcript.messages)}\n\n${formatSteps(transcript.steps)}`,
    );
  });

  it('exports markdown with a fence longer than any backticks inside', () => {
    expect(exportMarkdown(transcript)).toBe(
      [
        '# Run run-1',
        '- agent: helpdesk\n- status: completed',
        '## user\n\nWhere is order 1042?',
        '## tool (c1)\n\n````\na ``` fence\n````',
        '## assistant\n\nDone.',
        '## usage',
        [
          '| step | model | tokens in | tokens out | cost (USD) | latency (s) |',
          '| ---: | --- | ---: | ---: | ---: | ---: |',
          '| 1 | gpt-4o-mini | 100 | 20 | 0.000027 | 0.50 |',
          '| 2 | gpt-4o | 300 | 10 | 0.000850 | 1.25 |',
          '| total |  | 400 | 30 | 0.000877 | 1.75 |',
        ].join('\n'),
      ].join('\n\n'),
    );
  });

  it('exports JSON lines ending in the usage, and a Chat Completions request', () => {
    const lines = exportJsonl(transcript)
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toEqual({ type: 'message', ...user });
    expect(lines[3]).toEqual({
      type: 'usage',
      workflowId: 'run-1',
      agent: 'helpdesk',
      status: 'completed',
      ...transcript.usage,
      steps: transcript.steps,
    });
    expect(JSON.parse(exportOpenAi(transcript))).toEqual({
      model: 'gpt-4o-mini',
      messages: transcript.messages,
      tools: [
        { type: 'function', function: { name: 'lookup', description: 'Looks up', parameters: { type: 'object' } } },
      ],
    });
  });
});

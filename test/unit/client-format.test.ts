import {
  connectionCause,
  listQuery,
  reportedStatus,
  type RunReport,
  type RunSummary,
  type WaitNotice,
} from '../../client/agent-client';
import type { WorkflowExecutionStatusName } from '@temporalio/client';
import {
  formatMessage,
  formatReport,
  formatResult,
  formatRunList,
  formatState,
  formatTranscript,
  formatUsage,
  formatWaitNotice,
  startWorkerHint,
} from '../../client/format';
import { WaitTeller } from '../../client/waiting';
import type { AgentRunState, ChatMessage, Usage } from '../../src/types';

describe('listQuery', () => {
  const runs = 'WorkflowType = "agentRun" AND ExecutionStatus != "ContinuedAsNew"';

  it('matches agent runs, one per chain, when no filter is given', () => {
    expect(listQuery({})).toBe(runs);
  });

  it('ANDs status, agent and user filters in that order; a live status only matches open runs', () => {
    expect(listQuery({ user: 'u7', agent: 'helpdesk', status: 'awaiting_approval', limit: 5 })).toBe(
      `${runs} AND AgentStatus = "awaiting_approval" AND ExecutionStatus = "Running" AND AgentName = "helpdesk" AND AgentUser = "u7"`,
    );
    expect(listQuery({ status: 'completed' })).toBe(`${runs} AND AgentStatus = "completed"`);
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
        startTime: new Date('2025-01-02T03:04:05.000Z'),
        closed: true,
      },
      { workflowId: 'r2', status: 'running', startTime: new Date('2025-01-03T00:00:00.000Z'), closed: false },
    ];
    const lines = formatRunList(runs).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0].split(/\s+/)).toEqual(['ID', 'STATUS', 'AGENT', 'USER', 'STEPS', 'TOKENS', 'STARTED']);
    expect(lines[1].split(/\s+/)).toEqual([
      'agent-run-1',
      'completed',
      'helpdesk',
      'u1',
      '3',
      '1234',
      '2025-01-02T03:04:05.000Z',
    ]);
    expect(lines[2].split(/\s+/)).toEqual(['r2', 'running', '0', '0', '2025-01-03T00:00:00.000Z']);
    // Every column starts at the same offset on every line.
    for (const title of ['STATUS', 'AGENT', 'STEPS', 'STARTED']) {
      const column = lines[0].indexOf(title);
      expect(lines[1][column - 1]).toBe(' ');
      expect(lines[1][column]).not.toBe(' ');
    }
    expect(lines[2].indexOf('running')).toBe(lines[0].indexOf('STATUS'));
    expect(lines.every((line) => line === line.trimEnd())).toBe(true);
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
      { type: 'no_answer', taskQueue: 'agents', waitedMs: 2_000 },
      'waiting: no worker answered the run within 2 s on task queue "agents" (its worker may have stopped; start one: npm run worker)',
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
    teller.saw(both, false, 2_000);
    teller.saw(both, true, 2_000);
    teller.saw(both, true, 2_000);
    expect(told.slice(1)).toEqual([
      { type: 'no_answer', taskQueue: 'q', waitedMs: 2_000 },
      { type: 'worker_found', taskQueue: 'q' },
    ]);
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

import type { ApprovalRecord } from '../../client/approval-records';
import { withToolCalls } from '../../client/approval-records';
import type { RunTranscript } from '../../client/history-transcript';
import { exportJsonl, exportMarkdown, exportOpenAi } from '../../cli/export-writers';
import { formatApprovals, formatRunTranscript } from '../../cli/format';
import { Bounds } from '../../src/defaults';
import { approvalDecisionSchema } from '../../src/input';
import { describeIssues } from '../../src/validation';

describe('the approval update payload', () => {
  const problems = (payload: unknown) => {
    const parsed = approvalDecisionSchema.safeParse(payload);
    return parsed.success ? undefined : describeIssues(parsed.error);
  };

  it('takes a decision with a note, edited arguments, who decided and where', () => {
    const decision = {
      callId: '1.1',
      approve: true,
      note: 'ok by ops',
      args: { amountUsd: 50 },
      decidedBy: 'ada',
      via: 'cli',
    };
    expect(approvalDecisionSchema.parse(decision)).toEqual(decision);
    expect(problems({ callId: '1.1', approve: false })).toBeUndefined();
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'edited arguments on a denial',
      { approve: false, args: { amountUsd: 1 } },
      /^args: edited arguments come only with an approval/,
    ],
    ['arguments that are not an object', { args: [1, 2] }, /^args: /],
    [
      'arguments past the bound',
      { args: { text: 'x'.repeat(Bounds.toolArgumentsBytes) } },
      /^args: must be at most 65536 bytes as JSON/,
    ],
    ['an unknown surface', { via: 'slack' }, /^via: /],
    ['an empty approver', { decidedBy: '' }, /^decidedBy: /],
    ['an approver past the bound', { decidedBy: 'x'.repeat(300) }, /^decidedBy: /],
    ['an unknown field', { reason: 'because' }, /reason/],
  ])('refuses %s', (_case, fields, message) => {
    expect(problems({ callId: '1.1', approve: true, ...fields })).toMatch(message);
  });
});

const approved: ApprovalRecord = {
  callId: '1.1',
  approved: true,
  note: 'ok by ops',
  args: { orderId: '1042', amountUsd: 50 },
  decidedBy: 'ada',
  via: 'cli',
  identity: '4242@host',
  at: '2026-01-02T03:04:05.000Z',
};
const expired: ApprovalRecord = {
  callId: '1.2',
  tool: 'issue_refund',
  approved: false,
  note: 'no decision before the approval deadline: denied by the run',
  via: 'timeout',
  at: '2026-01-02T03:05:00.000Z',
};

describe('approval records', () => {
  it('name the call and its tool from the step that made it', () => {
    const calls = new Map([
      [1, [{ id: 'call_a', type: 'function' as const, function: { name: 'issue_refund', arguments: '{}' } }]],
    ]);
    expect(withToolCalls([approved, { ...approved, callId: '7.1' }], calls)).toEqual([
      { ...approved, tool: 'issue_refund', toolCallId: 'call_a' },
      { ...approved, callId: '7.1' },
    ]);
  });
});

describe('the audit trail in transcripts and exports', () => {
  const transcript: RunTranscript = {
    workflowId: 'run-1',
    agent: 'helpdesk',
    status: 'completed',
    model: 'gpt-4o-mini',
    tools: [],
    messages: [
      { role: 'user', content: 'refund order 1042' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'issue_refund', arguments: '{}' } }],
      },
      {
        role: 'tool',
        tool_call_id: 'call_a',
        content: 'A person approved this call. Their note: "ok by ops"\nResult: {}',
      },
      { role: 'assistant', content: 'Done.' },
    ],
    steps: [],
    usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
    approvals: [{ ...approved, tool: 'issue_refund', toolCallId: 'call_a' }, expired],
  };

  it('transcript shows each decision under the call it was on, and the rest after the messages', () => {
    const lines = formatRunTranscript(transcript).split('\n');
    expect(lines.slice(0, 4)).toEqual([
      'user: refund order 1042',
      '  → issue_refund({})',
      '  ✓ 1.1 approved by ada via cli at 2026-01-02T03:04:05.000Z · note: ok by ops · ran with edited arguments {"orderId":"1042","amountUsd":50}',
      '  ← A person approved this call. Their note: "ok by ops"',
    ]);
    expect(lines.slice(6, 8)).toEqual(formatApprovals([expired]));
    expect(formatApprovals([expired])).toEqual([
      'approvals:',
      '  1.2  issue_refund  denied via timeout at 2026-01-02T03:05:00.000Z · note: no decision before the approval deadline: denied by the run',
    ]);
  });

  it('markdown has an approvals section under the call, with who, where, when, the note and the edit', () => {
    const markdown = exportMarkdown(transcript);
    expect(markdown).toContain(
      [
        '## approvals',
        '',
        '- **approved** call 1.1 `issue_refund` by ada via cli at 2026-01-02T03:04:05.000Z',
        '  - note: ok by ops',
        '  - ran with edited arguments: `{"orderId":"1042","amountUsd":50}`',
        '',
        '## tool (call_a)',
      ].join('\n'),
    );
    expect(markdown).toContain('- **denied** call 1.2 `issue_refund` via timeout at 2026-01-02T03:05:00.000Z');
  });

  it('JSON lines have a line per decision after the message that made the call', () => {
    const lines = exportJsonl(transcript)
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(lines.map((line) => line.type)).toEqual([
      'message',
      'message',
      'approval',
      'message',
      'message',
      'approval',
      'usage',
    ]);
    expect(lines[2]).toEqual({ type: 'approval', ...transcript.approvals[0] });
  });

  it('the Chat Completions request holds what the model read: the note in the tool result', () => {
    expect(exportOpenAi(transcript)).toContain('ok by ops');
  });
});

/**
 * The Web UI's current details of a run (workflows/status-report.ts): its cost as the CLI shows it,
 * and each pending call's arguments in a code span, so they paste back as typed.
 */
import { formatUsage } from '../../cli/format';
import { RunStatus, type Usage } from '../../src/types';
import { currentDetails } from '../../workflows/status-report';

const usage: Usage = {
  inputTokens: 100,
  outputTokens: 20,
  totalTokens: 120,
  costUsd: 0.000027,
  costKnown: true,
  byModel: {},
};

describe("the Web UI's current details", () => {
  it('show the cost with the precision the CLI shows it with', () => {
    expect(currentDetails(RunStatus.running, { step: 2, usage }, [], 'helpdesk-1')).toBe(
      '**running** · step 2 · 120 tokens · $0.000027',
    );
    expect(formatUsage(usage)).toBe('120 tokens (100 in, 20 out), $0.000027');
    expect(currentDetails(RunStatus.running, { step: 2, usage: { ...usage, costKnown: false } }, [], 'r')).toBe(
      '**running** · step 2 · 120 tokens · $0.000027 (some models unpriced)',
    );
  });

  it('put pending arguments in a code span (one longer than any backticks in them), beside the commands', () => {
    const details = currentDetails(
      RunStatus.awaitingApproval,
      { step: 1, usage },
      [
        { callId: '1.1', tool: 'issue_refund', args: { orderId: '1042', reason: 'parcel "delayed"' } },
        { callId: '1.2', tool: 'run_sql', args: { query: 'select `name` from ``t``' } },
      ],
      'helpdesk-1',
    );
    expect(details.split('\n')).toEqual([
      '**awaiting_approval** · step 1 · 120 tokens · $0.000027',
      '',
      '**Awaiting approval**',
      '- `issue_refund` `{"orderId":"1042","reason":"parcel \\"delayed\\""}` (call 1.1): ' +
        '`durable-agents approve helpdesk-1 1.1` or `durable-agents deny helpdesk-1 1.1 --note "why"`',
      '- `run_sql` ```{"query":"select `name` from ``t``"}``` (call 1.2): ' +
        '`durable-agents approve helpdesk-1 1.2` or `durable-agents deny helpdesk-1 1.2 --note "why"`',
    ]);
  });
});

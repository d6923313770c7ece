/**
 * The cluster test's walk through the project CLI on the cluster (its visibility is PostgreSQL's, not
 * the dev server's SQLite): a helpdesk session whose refund waits for approval, found with
 * `list --status awaiting_approval`, approved, talked to, ended; then `list` and `status` of the
 * chaos runs. Returns what went wrong (nothing: it passed) and how long visibility took to show things.
 */
import { runCli, type CliOutcome } from '../support/cli';
import type { ModelRequest, Reply } from '../../testing';
import { lastOf, reply } from '../../testing';

const REFUND = { orderId: '1042', amountUsd: 129, reason: 'delivered late' };

/**
 * The helpdesk's model in these checks: a message that starts with "refund" asks for a refund (which
 * waits for approval), the refund's result is answered "Refund handled.", anything else is echoed.
 */
export function helpdeskScript(request: ModelRequest): Reply {
  const last = request.messages.at(-1);
  if (last?.role === 'tool') return reply.text('Refund handled.');
  const said = String(lastOf(request, 'user')?.content ?? '');
  if (said.startsWith('refund')) return reply.tools([{ name: 'issue_refund', args: REFUND }]);
  return reply.text(`echo ${said}`);
}

interface ListedRun {
  workflowId: string;
  status: string;
  agent?: string;
  user?: string;
}

interface RunState {
  status: string;
  pendingApprovals?: { callId: string; tool: string }[];
  approvals?: { callId: string; approved: boolean; note?: string }[];
}

export interface CliChecks {
  failures: string[];
  /** Seconds until `list --status awaiting_approval` showed the session, and `list` showed it completed. */
  listedAwaitingAfter?: number;
  listedCompletedAfter?: number;
}

export async function checkCliOnCluster(
  env: { TEMPORAL_ADDRESS: string; TASK_QUEUE: string },
  chaos: { agent: string; runs: number; anyRunId: string },
  seed: number,
): Promise<CliChecks> {
  const failures: string[] = [];
  const cli = (args: string[]) => runCli(args, { ...env }, 60_000);
  const json = <T>(outcome: CliOutcome, what: string): T | undefined => {
    if (outcome.code !== 0) {
      failures.push(`${what}: exit ${outcome.code}: ${outcome.stderr.trim()}`);
      return undefined;
    }
    return JSON.parse(outcome.stdout) as T;
  };
  /** Polls `probe` every half second for up to a minute; the seconds it took, or undefined. */
  const within = async (probe: () => Promise<boolean>, what: string): Promise<number | undefined> => {
    const start = Date.now();
    while (Date.now() - start < 60_000) {
      if (await probe()) return (Date.now() - start) / 1000;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    failures.push(`${what}: not within 60 s`);
    return undefined;
  };
  const listed = async (args: string[]): Promise<ListedRun[]> => {
    const outcome = await cli(['list', ...args, '--json']);
    return outcome.code === 0 ? (JSON.parse(outcome.stdout) as ListedRun[]) : [];
  };

  const user = `ada-${seed}`;
  const started = await cli(['start', 'helpdesk', 'refund order 1042, please', '--session', '--user', user]);
  if (started.code !== 0) return { failures: [`start: exit ${started.code}: ${started.stderr.trim()}`] };
  const id = started.stdout.trim();

  const result: CliChecks = { failures };
  result.listedAwaitingAfter = await within(
    async () =>
      (await listed(['--status', 'awaiting_approval', '--agent', 'helpdesk'])).some((run) => run.workflowId === id),
    `list --status awaiting_approval to show ${id}`,
  );
  const state = json<RunState>(await cli(['status', id, '--json']), 'status of the session');
  const pending = state?.pendingApprovals?.find((call) => call.tool === 'issue_refund');
  if (!pending)
    return { ...result, failures: [...failures, `status ${id}: no pending issue_refund (${JSON.stringify(state)})`] };

  const approved = await cli(['approve', id, pending.callId, '--note', 'ok by the cluster test']);
  if (approved.stdout !== `approved issue_refund (${pending.callId})\n`)
    failures.push(`approve: exit ${approved.code}: ${approved.stdout}${approved.stderr}`);
  await within(
    async () => json<RunState>(await cli(['status', id, '--json']), 'status')?.status === 'awaiting_input',
    `${id} to answer the refund and await input`,
  );
  const sent = await cli(['send', id, 'thanks']);
  if (sent.stdout !== 'echo thanks\n') failures.push(`send: exit ${sent.code}: ${sent.stdout}${sent.stderr}`);
  const shown = await cli(['status', id]);
  if (
    !/approvals:\n {2}\S+ {2}issue_refund {2}.*approved/.test(shown.stdout) ||
    !shown.stdout.includes('ok by the cluster test')
  )
    failures.push(`status ${id} does not list the approval:\n${shown.stdout}${shown.stderr}`);
  const ended = await cli(['end', id]);
  if (ended.stdout !== 'ending\n') failures.push(`end: exit ${ended.code}: ${ended.stdout}${ended.stderr}`);
  const final = json<{ status: string; steps: number }>(await cli(['result', id, '--json']), 'result of the session');
  if (final?.status !== 'completed') failures.push(`the session ended ${JSON.stringify(final)}`);
  result.listedCompletedAfter = await within(
    async () =>
      (await listed(['--agent', 'helpdesk', '--user', user])).some(
        (run) => run.workflowId === id && run.status === 'completed' && run.user === user,
      ),
    `list --agent helpdesk --user ${user} to show ${id} completed`,
  );

  // The chaos runs, through visibility after every fault: all there, all completed.
  const runs = await listed(['--agent', chaos.agent, '--limit', String(chaos.runs + 50)]);
  const completed = runs.filter((run) => run.status === 'completed').length;
  if (runs.length !== chaos.runs || completed !== chaos.runs)
    failures.push(`list --agent ${chaos.agent}: ${runs.length} runs, ${completed} completed; expected ${chaos.runs}`);
  const status = await cli(['status', chaos.anyRunId]);
  if (status.code !== 0 || !status.stdout.startsWith('status: completed'))
    failures.push(`status ${chaos.anyRunId}: exit ${status.code}: ${status.stdout}${status.stderr}`);
  return result;
}

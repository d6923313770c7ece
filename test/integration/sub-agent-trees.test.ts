/**
 * A tree of three agents (lead → middle → clerk; issue #25): a call waiting for approval in the
 * grandchild is the root's to decide, cancelling the root stops every run and tool of the tree, and
 * the root's budget bounds what the whole tree spends.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { approvalUpdate, searchAttributes, stateQuery } from '../../src/contract';
import { defineAgent } from '../../src/agent';
import { AgentRegistry } from '../../src/registry';
import { lastOf, reply, type ModelRequest, type Reply } from '../../testing';
import { runCli } from '../support/cli';
import { agentOf, filedReports, longTasks, middle } from '../support/clerk-agents';
import { eventually } from '../support/eventually';
import { useScriptedWorker } from '../support/harness';
import { updateRejectionOf } from '../support/outcomes';

const lead = defineAgent({ name: 'lead', instructions: 'You are the lead.', tools: [], agents: [middle] });

const setup = useScriptedWorker({}, new AgentRegistry().add([lead], 'test'));

const lastTool = (request: ModelRequest) =>
  request.messages.at(-1)?.role === 'tool' ? lastOf(request, 'tool') : undefined;

/** Each agent passes the user's words down; the clerk runs `tool`; each answers with what came back. */
function delegating(clerkTool: { name: string; args: unknown }): (request: ModelRequest) => Reply {
  return (request) => {
    const back = lastTool(request);
    if (back) return reply.text(`${agentOf(request)} heard: ${back.content}`);
    const agent = agentOf(request);
    if (agent === 'lead') return reply.tools([{ name: 'middle', args: { message: 'have it filed' } }]);
    if (agent === 'manager') return reply.tools([{ name: 'clerk', args: { message: 'file it' } }]);
    return reply.tools([clerkTool]);
  };
}

const treeIds = (rootId: string) => [rootId, `${rootId}/1.1`, `${rootId}/1.1/1.1`];

describe('approvals in a grandchild', () => {
  it('are listed on the root within 2 s, and approving there runs the tool once', async () => {
    setup.script = delegating({ name: 'file_report', args: { title: 'Q3' } });
    const handle = await setup.worker.start({ agent: 'lead', message: 'file the Q3 report' });
    const grandchild = setup.worker.client.workflow.getHandle(treeIds(handle.workflowId)[2]);
    await eventually(
      async () => (await grandchild.query(stateQuery).catch(() => undefined))?.pendingApprovals.length || undefined,
      'the grandchild to wait for approval',
    );
    const listedAt = Date.now();
    const pending = await eventually(async () => {
      const state = await handle.query(stateQuery);
      return state.status === 'awaiting_approval' ? state.pendingApprovals : undefined;
    }, 'the root to list the call');
    expect(Date.now() - listedAt).toBeLessThan(2_000);
    expect(pending).toEqual([
      { callId: '1.1/1.1/1.1', tool: 'file_report', args: { title: 'Q3' }, agentPath: ['middle', 'clerk'] },
    ]);
    await eventually(
      async () =>
        (await handle.describe()).typedSearchAttributes.get(searchAttributes.agentStatus) === 'awaiting_approval' ||
        undefined,
      "the root's AgentStatus to say awaiting_approval",
    );
    // The id the root lists decides it through the project CLI, on the root.
    const approved = await runCli(['approve', handle.workflowId, '1.1/1.1/1.1'], {
      TEMPORAL_ADDRESS: setup.worker.config.TEMPORAL_ADDRESS,
    });
    expect(approved).toMatchObject({ code: 0 });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.output).toBe('lead heard: manager heard: clerk heard: {"filed":"Q3"}');
    expect(filedReports).toEqual(['Q3']);
    expect((await handle.query(stateQuery)).pendingApprovals).toEqual([]);
  });

  it('a denial on the root reaches the grandchild model as a denial; a decision twice is refused', async () => {
    setup.script = delegating({ name: 'file_report', args: { title: 'Q4' } });
    const handle = await setup.worker.start({ agent: 'lead', message: 'file the Q4 report' });
    await eventually(
      async () => (await handle.query(stateQuery)).pendingApprovals.length > 0 || undefined,
      'the root to list the call',
    );
    expect(
      await updateRejectionOf(
        handle.executeUpdate(approvalUpdate, {
          args: [{ callId: '1.1/1.1/1.1', approve: true, args: { title: 'Q5' } }],
        }),
      ),
    ).toMatch(/edited arguments are checked by the run whose tool waits/);
    expect(
      await handle.executeUpdate(approvalUpdate, {
        args: [{ callId: '1.1/1.1/1.1', approve: false, note: 'not yet' }],
      }),
    ).toBe('denied file_report (1.1/1.1/1.1) in middle › clerk');
    expect(
      await updateRejectionOf(
        handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1/1.1/1.1', approve: true }] }),
      ),
    ).toMatch(/already decided/);
    const result = await handle.result();
    expect(result.output).toBe(
      'lead heard: manager heard: clerk heard: Denied: a person did not approve this call to file_report, so it did not run. Their note: "not yet"',
    );
    expect(filedReports).not.toContain('Q4');
  });
});

describe('two decisions on one call at once', () => {
  it('on the root and on the run where the call waits: one counts, the other is refused', async () => {
    setup.script = delegating({ name: 'file_report', args: { title: 'Q6' } });
    const handle = await setup.worker.start({ agent: 'lead', message: 'file the Q6 report' });
    const [, , grandchildId] = treeIds(handle.workflowId);
    await eventually(
      async () => (await handle.query(stateQuery)).pendingApprovals.length > 0 || undefined,
      'the root to list the call',
    );
    const decided = await Promise.allSettled([
      handle.executeUpdate(approvalUpdate, { args: [{ callId: '1.1/1.1/1.1', approve: false, note: 'root: no' }] }),
      setup.worker.client.workflow
        .getHandle(grandchildId)
        .executeUpdate(approvalUpdate, { args: [{ callId: '1.1', approve: true, note: 'clerk: yes' }] }),
    ]);
    const counted = decided.filter((outcome) => outcome.status === 'fulfilled');
    expect(counted).toHaveLength(1);
    const refused = decided.find((outcome) => outcome.status === 'rejected')!;
    // Refused where the call waited, or on the way down once that run reported it decided.
    expect(await updateRejectionOf(Promise.reject(refused.reason))).toMatch(
      /already (approved|denied|decided)|no tool call [\d./]+ awaits approval/,
    );
    const result = await handle.result();
    if (decided[0].status === 'fulfilled') {
      expect(decided[0].value).toBe('denied file_report (1.1/1.1/1.1) in middle › clerk');
      expect(result.output).toMatch(/Denied: .*"root: no"/);
      expect(filedReports).not.toContain('Q6');
    } else {
      expect(result.output).toMatch(
        /clerk heard: A person approved this call\. Their note: "clerk: yes"\nResult: \{"filed":"Q6"\}$/,
      );
      expect(filedReports).toContain('Q6');
    }
  });
});

describe('cancelling the root', () => {
  it('closes every run of the tree within 5 s, after the grandchild tool heard of it', async () => {
    setup.script = delegating({ name: 'long_task', args: {} });
    const handle = await setup.worker.start({ agent: 'lead', message: 'do the paperwork' });
    await eventually(async () => longTasks.length > 0 || undefined, 'the long task to start');
    const record = longTasks.at(-1)!;
    const cancelledAt = Date.now();
    await handle.cancel();
    const closed = await handle.result().catch((error: unknown) => error);
    expect(closed).toBeInstanceOf(WorkflowFailedError);
    expect((closed as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    for (const id of treeIds(handle.workflowId)) {
      const described = await setup.worker.client.workflow.getHandle(id).describe();
      expect([id, described.status.name]).toEqual([id, 'CANCELLED']);
      expect(described.closeTime!.getTime() - cancelledAt).toBeLessThan(5_000);
    }
    expect(record.abortedAt).toBeDefined();
    expect(record.finishedAt).toBeDefined();
  });
});

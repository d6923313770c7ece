/**
 * The manager and its clerk, the lower two levels of the sub-agent trees (issue #25) that the tree
 * tests (test/integration/sub-agent-trees.test.ts) and the recorded histories
 * (test/histories/record-sub-agents.ts) run: `file_report` waits for a person's approval, `long_task`
 * runs until the run is cancelled.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineAgent } from '../../src/agent';
import { defineTool } from '../../src/tool';
import type { ModelRequest } from '../../testing';

/** The titles `file_report` filed, in order (tests in this process read them). */
export const filedReports: string[] = [];
/** Each `long_task`: when it started, heard of its abort and gave up (tests in this process read them). */
export const longTasks: { startedAt: number; abortedAt?: number; finishedAt?: number }[] = [];

const clerk = defineAgent({
  name: 'clerk',
  description: 'Files reports and does paperwork.',
  instructions: 'You are the clerk.',
  tools: [
    defineTool({
      name: 'file_report',
      description: 'Files a report (a person approves it).',
      input: z.object({ title: z.string() }),
      requiresApproval: true,
      execute: ({ title }) => {
        filedReports.push(title);
        return { filed: title };
      },
    }),
    defineTool({
      name: 'long_task',
      description: 'Paperwork that takes a minute.',
      input: z.object({}),
      timeout: '90s',
      retry: { maximumAttempts: 1 },
      async execute(_args, ctx) {
        const record: (typeof longTasks)[number] = { startedAt: Date.now() };
        longTasks.push(record);
        ctx.signal.addEventListener('abort', () => (record.abortedAt = Date.now()), { once: true });
        while (!ctx.signal.aborted && Date.now() - record.startedAt < 60_000) {
          ctx.heartbeat();
          await sleep(200);
        }
        record.finishedAt = Date.now();
        throw ctx.signal.reason;
      },
    }),
  ],
});

/** The manager (`middle`), whose one sub-agent is the clerk. */
export const middle = defineAgent({
  name: 'middle',
  description: 'Manages the clerk.',
  instructions: 'You are the manager.',
  tools: [],
  agents: [clerk],
});

/** Which agent of a tree a model request is for, by its instructions' "You are the <name>". */
export const agentOf = (request: ModelRequest) => /You are the (\w+)/.exec(request.messages[0].content as string)![1];

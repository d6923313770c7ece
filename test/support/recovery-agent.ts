// A plug-in agent module for the recovery test (test/integration/recovery.test.ts): a tool whose first
// attempt runs until its worker is killed and whose retry takes a known time. It never heartbeats
// itself: the worker heartbeats for it.
import type { PluginApi } from '../../src';

/** How long `slow_step` takes on a retry. */
export const SLOW_STEP_LATENCY_MS = 300;

/** When `slow_step` saw its `ctx.signal` fire, in this process (for a test worker run in the test's own process). */
export const slowStepAborts: number[] = [];

export default ({ defineAgent, defineTool, z }: PluginApi) => [
  defineAgent({
    name: 'recovery',
    instructions: 'Run the slow step when asked.',
    tools: [
      defineTool({
        name: 'slow_step',
        description: 'A step that takes a while.',
        input: z.object({}),
        // No heartbeatTimeout: the default (DEFAULT_TOOL_HEARTBEAT_TIMEOUT, 10 s) applies.
        timeout: '120s',
        async execute(_args, ctx) {
          // The first attempt runs until its worker dies (or the call is cancelled).
          const waitMs = ctx.attempt === 1 ? 600_000 : SLOW_STEP_LATENCY_MS;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, waitMs);
            ctx.signal.addEventListener('abort', () => {
              slowStepAborts.push(Date.now());
              clearTimeout(timer);
              resolve();
            });
          });
          return { done: true, attempt: ctx.attempt };
        },
      }),
    ],
  }),
];

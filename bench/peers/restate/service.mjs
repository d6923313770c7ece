// Benchmark peer: the bench's agent loop (../agent-loop.mjs) as a Restate service, `AgentLoop/run`,
// each model call and each tool call a `ctx.run` step. The bench starts the restate-server binary of
// this folder's node_modules, this endpoint (env PORT), registers it, and calls the handler over the
// server's HTTP ingress; it kills and restarts this process to time recovery. Prints
// "restate peer: listening on <port>" once it serves.
// The SDK calls Promise.withResolvers (Node 22); the project supports Node 20, where it is missing.
Promise.withResolvers ??= function withResolvers() {
  let resolve, reject;
  const promise = new this((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
};
const restate = await import('@restatedev/restate-sdk');
import OpenAI from 'openai';
import { agentLoop, taskFromEnv } from '../agent-loop.mjs';

const task = taskFromEnv();
const openai = new OpenAI({ baseURL: process.env.OPENAI_BASE_URL, apiKey: 'bench', maxRetries: 0 });

const agentService = restate.service({
  name: 'AgentLoop',
  handlers: {
    run: async (ctx) => agentLoop(task, { openai, step: (name, fn) => ctx.run(name, fn) }),
  },
});

const port = await restate.serve({ services: [agentService], port: Number(process.env.PORT) });
console.log(`restate peer: listening on ${port}`);

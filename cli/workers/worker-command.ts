/**
 * `durable-agents worker [--offline] [--role <role>]`: a worker, exactly as `npm run worker` runs it (worker.ts's
 * `runWorker`), until SIGINT or SIGTERM.
 */
import { Option, type Command } from 'commander';
import { WORKER_ROLES } from '../../src/config';
import { DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS } from '../../src/defaults';
import { temporalFlags, type LoadWorkerSide } from './worker-side';

const HELP_AFTER = `
Examples:
  $ durable-agents worker
  $ durable-agents worker --offline
  $ AGENT_MODULES=./weather.mjs durable-agents --address 127.0.0.1:7233 worker

Environment (README "Configuration" has them all):
  TEMPORAL_ADDRESS  Temporal's host:port (--address; unset: the dev server, else TEMPORAL_PORT, else
                    ${DEFAULT_TEMPORAL_ADDRESS}; the first lines say which); also
                    TEMPORAL_NAMESPACE, TEMPORAL_PROFILE, TEMPORAL_API_KEY, TEMPORAL_TLS_*
  TASK_QUEUE        the runs' task queue (default "${DEFAULT_TASK_QUEUE}"); model and tool calls go there too,
                    or, in a fleet by role, to MODEL_TASK_QUEUE and TOOL_TASK_QUEUE (set them on every worker)
  WORKER_ROLE       workflows, model, tools or all (--role; default all): the queues it polls
  OPENAI_API_KEY    the model's key; OPENAI_BASE_URL any OpenAI-compatible endpoint
  AGENT_MODEL       the model of agents and runs that name none (default gpt-4o-mini; offline: --offline)
  AGENT_MODULES     plug-in agent modules, comma-separated; helpdesk: the example agent (list them:
                    durable-agents agents)
  PAYLOAD_KEYS      payload encryption keys, id:base64key,...
  WORKER_LOG_LEVEL  DEBUG adds the model client's own errors

Ctrl-C (SIGINT) or SIGTERM stops it after the calls in flight (up to SHUTDOWN_GRACE_SECONDS, 30);
a second one stops it at once.`;

export function registerWorkerCommand(program: Command, loadWorkerSide: LoadWorkerSide): void {
  program
    .command('worker')
    .description('run a worker, as npm run worker does: poll the task queue and run agent runs until Ctrl-C')
    .option(
      '--offline',
      'serve the offline demo model from this process (as AGENT_MODEL=offline does): no key, no network',
    )
    .addOption(new Option('--role <role>', 'the task queues it polls (as WORKER_ROLE)').choices(WORKER_ROLES))
    .addHelpText('after', HELP_AFTER)
    .action(async (options: { offline?: boolean; role?: string }, command: Command) => {
      const env = { ...process.env, ...(options.role && { WORKER_ROLE: options.role }) };
      const overrides = temporalFlags(command);
      await (await loadWorkerSide()).runWorker({ offline: Boolean(options.offline), env, overrides });
    });
}

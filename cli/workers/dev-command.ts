/**
 * `durable-agents dev`: the local tour in one command. It finds or starts a Temporal dev server
 * (cli/local-temporal.ts), runs a worker on the offline demo model in this process, prints the
 * Web UI and commands to try, and on Ctrl-C (SIGINT), SIGTERM or SIGHUP stops the worker and the
 * server it started, leaving a server it found running as it was.
 */
import type { Command } from 'commander';
import { cliCommand } from '../../client/shell-hints';
import { DEFAULT_TEMPORAL_ADDRESS } from '../../src/defaults';
import { findOrStartTemporal, type LocalTemporal } from '../local-temporal';
import { temporalFlags, type LoadWorkerSide } from './worker-side';

/** SIGHUP too: a closed terminal must not leave the dev server (in a session of its own) running. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Any message: the offline demo model plays the helpdesk conversation whatever it is asked. */
const TRY_MESSAGE = "My order 1042 hasn't arrived. Can I get my money back?";

/**
 * Listens for the stop signals from the start: until the worker runs, nothing else would, and a
 * signal nobody handles would end the process with its dev server still running.
 */
function listenForStop(): { stopped: Promise<void>; requested(): boolean; dispose(): void } {
  let requested = false;
  let resolve!: () => void;
  const stopped = new Promise<void>((done) => (resolve = done));
  const onSignal = (signal: NodeJS.Signals) => {
    if (requested) {
      console.error(`dev: ${signal}: still stopping`);
      return;
    }
    requested = true;
    console.error(`dev: ${signal}: stopping`);
    resolve();
  };
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  return {
    stopped,
    requested: () => requested,
    dispose: () => STOP_SIGNALS.forEach((signal) => process.off(signal, onSignal)),
  };
}

/** Where Temporal is and what to try, printed once the worker polls. */
function tour(temporal: LocalTemporal): string {
  const where = {
    started: 'started here; Ctrl-C stops it',
    running: `already running; left running${temporal.stopCommand ? `: ${temporal.stopCommand} stops it` : ''}`,
    configured: `${temporal.reason}; left running`,
  }[temporal.origin];
  // The CLI's default reaches the default port; any other needs saying (another shell may not find it).
  const local = temporal.address === '127.0.0.1:7233' || temporal.address === DEFAULT_TEMPORAL_ADDRESS;
  const cli = `${cliCommand()}${local ? '' : ` --address ${temporal.address}`}`;
  return [
    `dev: Temporal at ${temporal.address} (${where})`,
    `dev: Web UI ${temporal.uiUrl ?? "(the server's own: not known here)"}`,
    'dev: try, from another terminal (the offline demo model plays the helpdesk conversation whatever you ask):',
    `  ${cli} start helpdesk "${TRY_MESSAGE}" --session`,
    `  ${cli} status <id>`,
    `  ${cli} approve <id> <callId>     (status names the call that awaits approval)`,
    `  ${cli} send <id> "Thanks!"`,
    `dev: Ctrl-C stops the worker${temporal.origin === 'started' ? ' and the dev server' : ''}`,
  ].join('\n');
}

const HELP_AFTER = `
Examples:
  $ durable-agents dev
  $ TEMPORAL_PORT=27233 TEMPORAL_UI_PORT=28233 durable-agents dev
  $ durable-agents --address 127.0.0.1:7233 dev     # a Temporal you run yourself: start none

Environment:
  TEMPORAL_ADDRESS  use the Temporal there, start none (--address, or a --profile's address)
  TEMPORAL_PORT     the dev server's port (default 7233); a Temporal that answers there already is
                    used and left running, as is one ./temporal-dev.sh runs (on the ports it started with)
  TEMPORAL_UI_PORT  its Web UI's port (default 8233)
  TEMPORAL_RUN_DIR  the folder of its pid, log and ports (default .temporal); TEMPORAL_DB its SQLite file
  TASK_QUEUE, AGENT_MODULES, PAYLOAD_KEYS, WORKER_LOG_LEVEL  as for durable-agents worker

The worker serves the offline demo model (no key, no network). Ctrl-C (SIGINT), SIGTERM or SIGHUP
stops the worker and the dev server this command started, then exits with code 0. Where the package
is installed (no ./temporal-dev.sh), run any Temporal (temporal server start-dev) and name it.`;

export function registerDevCommand(program: Command, loadWorkerSide: LoadWorkerSide): void {
  program
    .command('dev')
    .description(
      'the local tour in one command: a Temporal dev server (started, or the one running), a worker on the ' +
        'offline demo model, the Web UI and commands to try; Ctrl-C stops them',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (_options: unknown, command: Command) => {
      const env = process.env;
      const flags = temporalFlags(command);
      const stop = listenForStop();
      try {
        // Not cut short by a signal: the script runs in a process group of its own, and a server it
        // starts is stopped below (at most its 60 s start-up later).
        const temporal = await findOrStartTemporal(env, flags);
        // However this process ends (process.exit included, a crash), a server started here stops.
        const onExit = () => temporal.stopSync();
        process.once('exit', onExit);
        try {
          if (stop.requested()) return;
          const workerSide = await loadWorkerSide();
          // The worker finds the same server the same way (src/config.ts), and says why on its first lines.
          await workerSide.runWorker({
            offline: true,
            env,
            overrides: flags,
            stop: stop.stopped,
            onReady: () => {
              if (!stop.requested()) console.log(tour(temporal));
            },
          });
        } finally {
          if (temporal.origin === 'started') {
            await temporal.stop();
            console.error(`dev: stopped the Temporal dev server at ${temporal.address}`);
          }
          process.off('exit', onExit);
        }
      } finally {
        stop.dispose();
      }
    });
}

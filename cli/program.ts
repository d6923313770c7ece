/**
 * The durable-agents CLI (entry: `cli.ts`): start runs and talk to them while they live.
 * Output is for people unless `--json`; any failure is one line on stderr and a non-zero exit
 * (1: the operation failed, 2: bad arguments, which also show the command's help). Commands that
 * wait say on stderr what they wait for (no worker, an approval) and what the run does now (a live
 * line: `cli/live-line.ts`), so stdout holds only the answer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS } from '../src/defaults';
import { terminalSafe } from '../src/terminal-text';
import { registerCodecServerCommand } from './codec-server-command';
import { commandContext } from './command-context';
import { warn } from './output';
import { registerRunCommands } from './runs';
import { registerMcpCommand } from './mcp/mcp-command';
import { registerWorkerSideCommands, type LoadWorkerSide } from './workers';
import { noWorkerSide } from './workers/worker-side';
import { localAgentNames } from './workers/agents-command';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

/**
 * The package's version, from its package.json: one folder up from the sources (cli/), two from
 * the compiled CLI the package's bin runs (dist/cli/).
 */
function packageVersion(): string {
  const path = [join(__dirname, '..', 'package.json'), join(__dirname, '..', '..', 'package.json')].find(existsSync);
  if (!path) throw new Error(`no package.json above ${__dirname}`);
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
}

const HELP_AFTER = `
Examples:
  $ durable-agents start helpdesk "Where is order 1042?" --wait
  $ durable-agents start helpdesk "Hi" --session --user ada
  $ durable-agents send <id> "and order 1043?"
  $ durable-agents status <id>
  $ durable-agents transcript <id>
  $ durable-agents export <id> --format openai > replay.json
  $ durable-agents approve <id> 1.1 --note "ok by ops"
  $ durable-agents list --status awaiting_approval
  $ durable-agents memory ada --forget "Prefers answers in French."
  $ durable-agents --profile cloud list --agent helpdesk
  $ durable-agents dev                  # a local dev server and an offline worker, for a tour
  $ durable-agents agents --json
  $ durable-agents mcp                  # every agent as an MCP tool (stdio; --http PORT)

Environment (a flag wins over its variable):
  TEMPORAL_ADDRESS     Temporal's host:port (--address); unset: the dev server ./temporal-dev.sh runs,
                       else 127.0.0.1:$TEMPORAL_PORT, else ${DEFAULT_TEMPORAL_ADDRESS} (said on stderr)
  TEMPORAL_NAMESPACE   namespace (--namespace; default "default")
  TEMPORAL_PROFILE     profile in the temporal CLI's config file (--profile)
  TEMPORAL_CONFIG_FILE that config file (default: the temporal CLI's)
  TEMPORAL_API_KEY     API key for Temporal Cloud (turns TLS on)
  TEMPORAL_TLS_*       TLS and mTLS settings (as the temporal CLI reads them)
  TASK_QUEUE           the task queue runs start on (default "${DEFAULT_TASK_QUEUE}")
  PAYLOAD_KEYS         payload encryption keys, id:base64key,...

Exit codes: 0 done, 1 failed (one line on stderr), 2 bad arguments (and help).`;

export function buildProgram(loadWorkerSide?: LoadWorkerSide): Command {
  const program = new Command('durable-agents')
    .description('Start durable agent runs on Temporal and talk to them.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'print JSON for scripts instead of text for people', false)
    .option(
      '--address <host:port>',
      `Temporal's address (env TEMPORAL_ADDRESS; default: the dev server, else TEMPORAL_PORT, else ${DEFAULT_TEMPORAL_ADDRESS})`,
    )
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option('--profile <name>', "profile of the temporal CLI's config file (env TEMPORAL_PROFILE)")
    .addHelpText('after', HELP_AFTER)
    // Set before the commands are added, which copy them: a usage error is followed by that command's
    // help, and its line (which may quote an argument) is made inert like all output for people.
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(terminalSafe(text)) })
    .exitOverride();

  const context = {
    ...commandContext(program),
    ...(loadWorkerSide && { localAgents: () => localAgentNames(loadWorkerSide, process.env) }),
  };
  // start, send, approve, deny, end, status, result, watch, transcript, export, cancel, list, memory (cli/runs/).
  registerRunCommands(program, context);
  registerCodecServerCommand(program);
  // agents, worker, dev (cli/workers/): they run worker code, which `loadWorkerSide` loads for them.
  registerWorkerSideCommands(program, loadWorkerSide);
  // mcp (cli/mcp/): the agents this environment registers (worker code) as MCP tools, runs through the client.
  registerMcpCommand(program, context, loadWorkerSide ?? noWorkerSide);
  return program;
}

/** Runs the CLI on `argv` and returns the exit code. */
export async function main(argv: string[], loadWorkerSide?: LoadWorkerSide): Promise<number> {
  try {
    await buildProgram(loadWorkerSide).parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message; help and version are not failures.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    // AgentClientError and ConfigError messages are written as one line; so is anything else's.
    warn(`error: ${(error as Error).message ?? error}`);
    return EXIT_FAILED;
  }
}

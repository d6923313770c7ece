/**
 * The durable-agents CLI (entry: `client.ts`): start runs and talk to them while they live.
 * Output is for people unless `--json`; any failure is one line on stderr and a non-zero exit
 * (1: the operation failed, 2: bad arguments).
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EncryptionCodec, parsePayloadKeys, parseUiOrigin, startCodecServer } from '../codec';
import { CODEC_SERVER_DEFAULTS } from '../src/defaults';
import { loadCodecServerConfig } from '../src/config';
import type { AgentRunInput } from '../src/input';
import { RunStatus, type Limits } from '../src/types';
import { AgentClient, checkRunInput, type RunEvent } from './agent-client';
import { formatMessage, formatResult, formatRunList, formatState } from './format';

const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('expected a positive number');
  return number;
}

function portNumber(value: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number > 65_535) throw new InvalidArgumentError('expected a port number (0-65535)');
  return number;
}

/** Resolves on the first SIGINT or SIGTERM: how a long-running command is told to stop. */
function stopRequested(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function print(json: boolean, value: unknown, human: () => string): void {
  console.log(json ? JSON.stringify(value, null, 2) : human());
}

/** One line for a `watch` event. */
function formatEvent(event: RunEvent): string | undefined {
  if (event.type === 'message') return formatMessage(event.message);
  const pending = event.pendingApprovals.map((approval) => `${approval.callId} ${approval.tool}`).join(', ');
  return `[${event.status}${pending ? `: ${pending}` : ''}]`;
}

export function buildProgram(): Command {
  const program = new Command('durable-agents')
    .description('Start durable agent runs on Temporal and talk to them.')
    .option('--json', 'print JSON for scripts instead of text for people', false)
    .exitOverride();

  let client: AgentClient | undefined;
  const connect = async () => (client ??= await AgentClient.connect());
  const json = () => Boolean(program.opts().json);
  program.hook('postAction', async () => {
    await client?.close();
  });

  program
    .command('start')
    .description('start a run and print its id (the handle) at once')
    .argument('<agent>', 'agent name, e.g. helpdesk')
    .argument('<message>', 'the first user message')
    .option('--session', 'keep the run open for more messages after it answers')
    .option('--user <id>', 'the user the run acts for')
    .option('--id <workflowId>', 'choose the run id (default: <agent>-<uuid>)')
    .option('--model <model>', 'override the agent model')
    .option('--max-steps <n>', 'step budget', positiveNumber)
    .option('--max-tokens <n>', 'token budget', positiveNumber)
    .option('--max-cost <usd>', 'cost budget in US dollars', positiveNumber)
    .option('--max-duration <seconds>', 'time budget: a deadline for the run (each turn, in a session)', positiveNumber)
    .option('--max-repeats <n>', 'the same tool call this many answers in a row is a stuck loop', positiveNumber)
    .option('--fallback-model <model...>', 'models to try in order when the model keeps failing')
    .option('--wait', 'wait for the result and print it')
    .action(async (agent: string, message: string, options) => {
      const limits: Limits = {
        ...(options.maxSteps && { maxSteps: options.maxSteps }),
        ...(options.maxTokens && { maxTokens: options.maxTokens }),
        ...(options.maxCost && { maxCostUsd: options.maxCost }),
        ...(options.maxDuration && { maxDurationSeconds: options.maxDuration }),
        ...(options.maxRepeats && { maxRepeats: options.maxRepeats }),
      };
      const input: AgentRunInput = {
        agent,
        message,
        ...(options.session && { mode: 'session' as const }),
        ...(options.user && { userId: options.user }),
        ...(options.model && { model: options.model }),
        ...(options.fallbackModel && { fallbackModels: options.fallbackModel }),
        ...(Object.keys(limits).length && { limits }),
      };
      // Checked before connecting: a bad input is the caller's to fix, wherever Temporal is.
      checkRunInput(input);
      const agents = await connect();
      const id = await agents.start(input, { workflowId: options.id });
      if (!options.wait) {
        print(json(), { id }, () => id);
        return;
      }
      // The handle first: whoever waits can follow the run elsewhere, or come back to it.
      if (!json()) console.log(id);
      const result = await agents.result(id);
      print(json(), { id, result }, () => formatResult(result));
    });

  program
    .command('send')
    .description('send a message to a session and print the reply')
    .argument('<id>', 'run id')
    .argument('<text>', 'the message')
    .option('--no-wait', 'queue the message instead of waiting for the reply')
    .action(async (id: string, text: string, options) => {
      const agents = await connect();
      if (!options.wait) {
        const queued = await agents.message(id, text);
        print(json(), { queued: true, outcome: queued }, () => queued);
        return;
      }
      const reply = await agents.chat(id, text);
      print(json(), { reply }, () => reply);
    });

  for (const [name, approve] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} a tool call that awaits approval`)
      .argument('<id>', 'run id')
      .argument('<callId>', 'the call id shown by `status`')
      .option('--note <text>', 'a note for the model (and the record)')
      .action(async (id: string, callId: string, options) => {
        const outcome = await (await connect()).decide(id, { callId, approve, note: options.note });
        print(json(), { callId, approved: approve, outcome }, () => outcome);
      });
  }

  program
    .command('end')
    .description('end a session after any turn in progress')
    .argument('<id>', 'run id')
    .action(async (id: string) => {
      await (await connect()).end(id);
      print(json(), { ended: true }, () => 'ending');
    });

  program
    .command('status')
    .description("show a run's status, usage and pending approvals")
    .argument('<id>', 'run id')
    .action(async (id: string) => {
      const state = await (await connect()).state(id);
      print(json(), state, () => formatState(state));
    });

  program
    .command('result')
    .description('wait for a run to finish and print its result')
    .argument('<id>', 'run id')
    .action(async (id: string) => {
      const result = await (await connect()).result(id);
      print(json(), result, () => formatResult(result));
    });

  program
    .command('watch')
    .description('follow new messages and status changes until the run ends')
    .argument('<id>', 'run id')
    .action(async (id: string) => {
      for await (const event of (await connect()).watch(id)) {
        const line = json() ? JSON.stringify(event) : formatEvent(event);
        if (line) console.log(line);
      }
    });

  program
    .command('cancel')
    .description('cancel a run')
    .argument('<id>', 'run id')
    .action(async (id: string) => {
      await (await connect()).cancel(id);
      print(json(), { cancelled: true }, () => `cancel requested for ${id}`);
    });

  program
    .command('list')
    .description('list agent runs, newest first')
    .addOption(new Option('--status <status>', 'only runs in this status').choices(Object.values(RunStatus)))
    .option('--agent <name>', 'only runs of this agent')
    .option('--user <id>', 'only runs of this user')
    .option('--limit <n>', 'at most this many', positiveNumber, 50)
    .action(async (options) => {
      const runs = await (await connect()).list(options);
      print(json(), runs, () => formatRunList(runs));
    });

  program
    .command('codec-server')
    .description(
      'decrypt payloads for the Web UI and `temporal ... --codec-endpoint` (Temporal remote codec, decode only); ' +
        'needs PAYLOAD_KEYS and CODEC_SERVER_TOKEN',
    )
    .option(
      '--port <n>',
      `port, 0 for a free one (env CODEC_SERVER_PORT; default ${CODEC_SERVER_DEFAULTS.port})`,
      portNumber,
    )
    .option(
      '--host <address>',
      'address to listen on; beyond loopback, put TLS in front (tokens and plaintext travel in the clear)',
      CODEC_SERVER_DEFAULTS.host,
    )
    .option(
      '--ui-origin <origin>',
      `the one Web UI origin its pages may call from (env CODEC_SERVER_UI_ORIGIN; default ${CODEC_SERVER_DEFAULTS.uiOrigin})`,
    )
    .action(async (options) => {
      const config = loadCodecServerConfig();
      // The flag wins over its env twin; each is checked under its own name.
      const [origin, source] =
        options.uiOrigin !== undefined
          ? [options.uiOrigin, '--ui-origin']
          : [config.CODEC_SERVER_UI_ORIGIN, 'CODEC_SERVER_UI_ORIGIN'];
      const uiOrigin = origin === undefined ? CODEC_SERVER_DEFAULTS.uiOrigin : parseUiOrigin(origin, source);
      const server = await startCodecServer({
        codec: new EncryptionCodec(parsePayloadKeys(config.PAYLOAD_KEYS)),
        token: config.CODEC_SERVER_TOKEN,
        uiOrigin,
        host: options.host,
        port: options.port ?? config.CODEC_SERVER_PORT,
      });
      // The token came from the environment and stays there: the endpoint is printed with a placeholder.
      console.log(
        `codec-server: decoding on ${server.url} for the Web UI at ${uiOrigin}; ` +
          `Web UI codec endpoint ${server.url}/<CODEC_SERVER_TOKEN>, ` +
          `temporal CLI --codec-endpoint ${server.url} --codec-auth "Bearer <CODEC_SERVER_TOKEN>"`,
      );
      await stopRequested();
      await server.close();
    });

  return program;
}

/** Runs the CLI on `argv` and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the message; help and version are not failures.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    // AgentClientError and ConfigError messages are written as one line; so is anything else's.
    console.error(`error: ${(error as Error).message ?? error}`);
    return EXIT_FAILED;
  }
}

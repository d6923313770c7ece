/**
 * The durable-agents CLI (entry: `cli.ts`): start runs and talk to them while they live.
 * Output is for people unless `--json`; any failure is one line on stderr and a non-zero exit
 * (1: the operation failed, 2: bad arguments, which also show the command's help). Commands that
 * wait say on stderr what they wait for (no worker, an approval) and what the run does now (a live
 * line: `cli/live-line.ts`), so stdout holds only the answer.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EncryptionCodec, parsePayloadKeys, parseUiOrigin, startCodecServer } from '../codec';
import { CODEC_SERVER_DEFAULTS, DEFAULT_TASK_QUEUE, DEFAULT_TEMPORAL_ADDRESS } from '../src/defaults';
import { loadCodecServerConfig, loadTemporalConfig } from '../src/config';
import type { AgentRunInput } from '../src/input';
import { checkRunId, RUN_ID_MAX_BYTES } from '../src/run-id';
import { terminalSafe } from '../src/terminal-text';
import { RunStatus, type Limits } from '../src/types';
import {
  AgentClient,
  checkRunInput,
  type RunReport,
  type RunStreamEvent,
  type StreamOptions,
  type WaitNotice,
  type WaitOptions,
} from '../client/agent-client';
import {
  formatOutcome,
  formatReport,
  formatResult,
  formatRunList,
  formatRunTranscript,
  formatState,
  formatWaitNotice,
} from './format';
import { registerWorkerSideCommands, type LoadWorkerSide } from './workers';
import { startWorkerHint } from '../client/shell-hints';
import { formatProgress, LiveLinePrinter } from './live-line';
import { StreamPrinter, type PrinterOptions } from './stream-printer';
import { EXPORT_FORMATS, exportTranscript, type ExportFormat } from './export-writers';

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

/** A run id argument, held to the run id rule (src/run-id.ts) before the command connects to anything. */
function runId(value: string): string {
  checkRunId(value);
  return value;
}

/**
 * Output for people on stdout. What the CLI prints carries text from outside (messages, answers, tool
 * calls and results, names, failure messages): its control characters are shown, never obeyed.
 */
function say(text: string): void {
  console.log(terminalSafe(text));
}

/** Output for people on stderr (notices, errors), made inert as `say` makes it. */
function warn(text: string): void {
  console.error(terminalSafe(text));
}

function print(json: boolean, value: unknown, human: () => string): void {
  if (json) console.log(JSON.stringify(value, null, 2));
  else say(human());
}

/** While a command waits: what it waits for, as plain lines on stderr (stdout is for the answer). */
function tellWaiting(notice: WaitNotice): void {
  warn(formatWaitNotice(notice));
}

/**
 * A command's wait, with a live line on stderr for what the run does now (rewritten in place on a
 * terminal, a line per change elsewhere) among the lines of what it waits for. With `--json` off a
 * terminal, a script is reading: it hears only what the run waits for.
 */
async function withLiveLine<T>(json: boolean, wait: (options: WaitOptions) => Promise<T>): Promise<T> {
  const live = new LiveLinePrinter(process.stderr);
  const shown = !json || Boolean(process.stderr.isTTY);
  try {
    return await wait({
      onWait: (notice) => live.note(formatWaitNotice(notice)),
      ...(shown && { onLive: (description, state) => live.show(description, state) }),
    });
  } finally {
    live.stop();
  }
}

/**
 * How a waiting command shows the run's stream (unless `--no-stream`): with `--json`, every event as a
 * line of JSON on stdout; on a terminal (stdout's, else stderr's, so that stdout may go to a file),
 * through a `StreamPrinter`. Off a terminal and without `--json` there is no stream to show: the
 * command prints its answer when it has it, with the live line on stderr, as with `--no-stream`.
 */
type StreamView = { json: true } | { json: false; printer: StreamPrinter; onStdout: boolean };

function streamView(json: boolean, stream: boolean, options: PrinterOptions): StreamView | undefined {
  if (!stream) return undefined;
  if (json) return { json: true };
  const terminal = [process.stdout, process.stderr].find((out) => out.isTTY);
  return (
    terminal && { json: false, printer: new StreamPrinter(terminal, options), onStdout: terminal === process.stdout }
  );
}

/** How long a command waits for the stream to first hear from the run before it acts on it. */
const STREAM_READY_MS = 2_000;
/** How long a command that has its answer waits for the stream to catch up with it. */
const STREAM_CATCH_UP_MS = 3_000;

/**
 * `wait` (a reply, a result) while showing the run's stream in `view`; once `wait` is done, the
 * stream gets a moment to show the rest of it (until `caughtUp` says an event is the last it needs).
 * A stream that fails never fails the wait.
 */
async function whileStreaming<T>(
  agents: AgentClient,
  id: string,
  view: StreamView,
  from: StreamOptions['from'],
  caughtUp: (event: RunStreamEvent, answer: T) => boolean,
  wait: () => Promise<T>,
): Promise<T> {
  const tell = (notice: WaitNotice) =>
    view.json ? warn(formatWaitNotice(notice)) : view.printer.line(formatWaitNotice(notice));
  const show = (event: RunStreamEvent) => {
    if (view.json) console.log(JSON.stringify(event));
    else view.printer.show(event);
    // The stream tells each call that comes to await approval once, as the wait's notice.
    if (event.type === 'approval') {
      const { type: _approval, ...approval } = event;
      tell({ type: 'awaiting_approval', workflowId: id, pendingApprovals: [approval] });
    }
  };
  const stop = new AbortController();
  let answer: { value: T } | undefined;
  let heard: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (heard = resolve));
  const following = (async () => {
    // The stream's looks tell what the run waits for: the wait itself only waits.
    for await (const event of agents.stream(id, { from, signal: stop.signal, onReady: heard, onWait: tell })) {
      show(event);
      if (answer && caughtUp(event, answer.value)) return;
    }
  })().catch((error: Error) => {
    // The wait goes on without it: the answer is shown when it comes.
    warn(`note: live output stopped (${error.message})`);
  });
  try {
    // What the stream tells from now on starts before the wait acts on the run (at most a moment later).
    await Promise.race([ready, following, new Promise((resolve) => setTimeout(resolve, STREAM_READY_MS).unref())]);
    answer = { value: await wait() };
    const timer = setTimeout(() => stop.abort(), STREAM_CATCH_UP_MS);
    await following;
    clearTimeout(timer);
    return answer.value;
  } finally {
    stop.abort();
  }
}

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

Environment (a flag wins over its variable):
  TEMPORAL_ADDRESS     Temporal's host:port (--address; default ${DEFAULT_TEMPORAL_ADDRESS})
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
    .option('--address <host:port>', `Temporal's address (env TEMPORAL_ADDRESS; default ${DEFAULT_TEMPORAL_ADDRESS})`)
    .option('--namespace <name>', 'Temporal namespace (env TEMPORAL_NAMESPACE; default "default")')
    .option('--profile <name>', "profile of the temporal CLI's config file (env TEMPORAL_PROFILE)")
    .addHelpText('after', HELP_AFTER)
    // Set before the commands are added, which copy them: a usage error is followed by that command's
    // help, and its line (which may quote an argument) is made inert like all output for people.
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(terminalSafe(text)) })
    .exitOverride();

  let client: AgentClient | undefined;
  const connect = async () => {
    const { address, namespace, profile } = program.opts();
    client ??= await AgentClient.connect(loadTemporalConfig(process.env, { address, namespace, profile }));
    return client;
  };
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
    .option(
      '--id <workflowId>',
      `choose the run id (default: <agent>-<uuid>): up to ${RUN_ID_MAX_BYTES} UTF-8 bytes, no control characters, ` +
        'no surrounding spaces',
      runId,
    )
    .option('--model <model>', 'override the agent model')
    .option('--max-steps <n>', 'step budget', positiveNumber)
    .option('--max-tokens <n>', 'token budget', positiveNumber)
    .option('--max-cost <usd>', 'cost budget in US dollars', positiveNumber)
    .option('--max-duration <seconds>', 'time budget: a deadline for the run (each turn, in a session)', positiveNumber)
    .option('--max-repeats <n>', 'the same tool call this many answers in a row is a stuck loop', positiveNumber)
    .option('--fallback-model <model...>', 'models to try in order when the model keeps failing')
    .option('--wait', 'wait for the result and print it')
    .option('--no-stream', 'with --wait: print the answer when it is complete, not as the model writes it')
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
      if (!json()) say(id);
      const view = streamView(json(), options.stream, { transcript: false });
      if (!view) {
        const result = await withLiveLine(json(), (options) => agents.result(id, options));
        print(json(), { id, result }, () => formatResult(result));
        return;
      }
      // The stream ends with the run: its last event is the result.
      const result = await whileStreaming(
        agents,
        id,
        view,
        'start',
        () => false,
        () => agents.result(id),
      );
      if (view.json) console.log(JSON.stringify({ id, result }));
      else if (view.onStdout) {
        view.printer.finish(result.output);
        say(`\n${formatOutcome(result)}`);
      } else say(formatResult(result));
    });

  program
    .command('send')
    .description('send a message to a session and print the reply')
    .argument('<id>', 'run id', runId)
    .argument('<text>', 'the message')
    .option('--no-wait', 'queue the message instead of waiting for the reply')
    .option('--no-stream', 'print the reply when it is complete, not as the model writes it')
    .action(async (id: string, text: string, options) => {
      const agents = await connect();
      if (!options.wait) {
        const queued = await agents.message(id, text);
        print(json(), { queued: true, outcome: queued }, () => queued);
        return;
      }
      const view = streamView(json(), options.stream, { transcript: false });
      if (!view) {
        const reply = await withLiveLine(json(), (options) => agents.chat(id, text, options));
        print(json(), { reply }, () => reply);
        return;
      }
      const reply = await whileStreaming<string>(
        agents,
        id,
        view,
        'now',
        (event, reply) => event.type === 'assistant' && event.text.trim() === reply.trim(),
        () => agents.chat(id, text),
      );
      if (view.json) console.log(JSON.stringify({ reply }));
      else if (view.onStdout) view.printer.finish(reply);
      else say(reply);
    });

  for (const [name, approve] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} a tool call that awaits approval`)
      .argument('<id>', 'run id', runId)
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
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      await (await connect()).end(id);
      print(json(), { ended: true }, () => 'ending');
    });

  program
    .command('status')
    .description(
      "show a run's status, usage and pending approvals; a closed run's ending comes from its history " +
        '(exit code 1 if it failed, timed out or was terminated)',
    )
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      const report = await (await connect()).report(id);
      const { state, noWorker } = report;
      // An open run speaks for itself; a closed one is how it ended (with its state, where a worker can replay it).
      // An open run's calls in flight (one being retried: its attempt and last error) and each step's usage follow.
      const progress = report.closed ? [] : formatProgress(report, Date.now());
      const { callsInFlight, stepUsage } = report;
      if (state && !report.closed) {
        print(json(), { ...state, callsInFlight, stepUsage }, () => [formatState(state), ...progress].join('\n'));
      } else print(json(), report, () => [formatReport(report), ...progress].join('\n'));
      if (noWorker) {
        const why = noWorker.workflow
          ? `no worker answered the run on task queue "${noWorker.taskQueue}"`
          : `no worker is polling task queue "${noWorker.taskQueue}"`;
        warn(`note: ${why}: this is what the run last recorded (${startWorkerHint(noWorker.taskQueue)})`);
      }
      endedWithout(report);
    });

  program
    .command('result')
    .description('wait for a run to finish and print its result')
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      const agents = await connect();
      const result = await withLiveLine(json(), (options) => agents.result(id, options));
      print(json(), result, () => formatResult(result));
    });

  program
    .command('watch')
    .description(
      'follow new messages and status changes until the run ends (exit code 1 if it failed, was cancelled or terminated)',
    )
    .argument('<id>', 'run id', runId)
    .option('--no-stream', "show the model's answers when they are complete, not as it writes them")
    .action(async (id: string, options) => {
      // Off a terminal (and with --no-stream) whole messages, a line each; with --json every event.
      const printer = new StreamPrinter(
        options.stream ? process.stdout : { write: (text) => process.stdout.write(text) },
        {
          transcript: true,
        },
      );
      let ending: RunStreamEvent | undefined;
      for await (const event of (await connect()).stream(id, { onWait: tellWaiting })) {
        if (json()) console.log(JSON.stringify(event));
        else printer.show(event);
        ending = event;
      }
      // A run that failed, timed out or was terminated ends the command with its one-line error.
      if (ending?.type === 'failure' && ending.status !== RunStatus.cancelled) throw new Error(ending.failure.error);
      // A run that ended with a result: what each step used.
      if (!json() && ending?.type === 'result') {
        const { stepUsage } = await (await connect()).report(id);
        if (stepUsage?.length) say(formatProgress({ stepUsage }, Date.now()).join('\n'));
      }
    });

  program
    .command('transcript')
    .description("show a run's messages and per-step usage, read from its history (no worker needed)")
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      const transcript = await (await connect()).transcript(id);
      print(json(), transcript, () => formatRunTranscript(transcript));
    });

  program
    .command('export')
    .description("write a run's transcript and usage to stdout, read from its history (no worker needed)")
    .argument('<id>', 'run id', runId)
    .addOption(
      new Option(
        '--format <format>',
        'md (markdown), jsonl (a message a line, then usage) or openai (a Chat Completions request)',
      )
        .choices(EXPORT_FORMATS)
        .default('md'),
    )
    .action(async (id: string, options: { format: ExportFormat }) => {
      const exported = exportTranscript(await (await connect()).transcript(id), options.format);
      // A file or a pipe gets the transcript as it is; a terminal gets it for people, made inert.
      if (process.stdout.isTTY) say(exported);
      else console.log(exported);
    });

  program
    .command('cancel')
    .description('cancel a run')
    .argument('<id>', 'run id', runId)
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
    .command('memory')
    .description(
      'list what memory-enabled agents remember about a user, oldest first, or forget one fact ' +
        '(exit code 1 if that fact was not remembered)',
    )
    .argument('<userId>', 'the user, as runs name it (start --user)')
    .option('--forget <fact>', 'forget this fact (case and surrounding spaces do not matter)')
    .addHelpText(
      'after',
      `
Examples:
  $ durable-agents memory ada
  $ durable-agents memory ada --forget "Prefers answers in French."`,
    )
    .action(async (userId: string, options: { forget?: string }) => {
      const agents = await connect();
      const fact = options.forget;
      if (fact === undefined) {
        const facts = await agents.memory(userId);
        print(json(), facts, () =>
          facts.length
            ? facts.map((known) => `${known.rememberedAt}  ${known.text}`).join('\n')
            : `nothing is remembered about user ${userId}`,
        );
        return;
      }
      // A fact that was not there is a failure: a typo must not look like a fact forgotten.
      if (!(await agents.forget(userId, fact))) {
        throw new Error(
          `no fact ${JSON.stringify(fact)} is remembered about user ${userId} (durable-agents memory ${userId} lists them)`,
        );
      }
      print(json(), { userId, forgotten: fact }, () => `forgot ${JSON.stringify(fact)} about user ${userId}`);
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

  // agents, worker, dev (cli/workers/): they run worker code, which `loadWorkerSide` loads for them.
  registerWorkerSideCommands(program, loadWorkerSide);
  return program;
}

/** Fails the command (exit code 1, the reason on stderr) for a run that closed without a result. */
/** Fails the command for a run that ended without finishing its work on its own (a cancelled run was told to stop: that is no failure). */
function endedWithout(report: RunReport): void {
  if (report.failure && report.status !== RunStatus.cancelled) throw new Error(report.failure.error);
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

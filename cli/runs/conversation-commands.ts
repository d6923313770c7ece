/**
 * The run commands that act on runs: `start` one (and wait for its answer), `send` a session a
 * message (and wait for the reply), `approve` or `deny` a tool call, `end` a session, `cancel` a run.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { checkRunInput } from '../../client/agent-client';
import { DEFAULT_UNKNOWN_AGENT_WAIT_SECONDS } from '../../src/defaults';
import { ApprovalSurface, type AgentRunInput } from '../../src/input';
import { RUN_ID_MAX_BYTES } from '../../src/run-id';
import type { Limits, RunOutput } from '../../src/types';
import { jsonObject, positiveNumber, runId } from '../arg-parsers';
import type { CommandContext } from '../command-context';
import { formatAnswer, formatOutcome, formatResult } from '../format';
import { print, say, warn } from '../output';
import { streamView, whileStreaming, withLiveLine } from '../wait-view';

/** `start`'s options, as commander parses them. */
interface StartOptions {
  session?: boolean;
  user?: string;
  id?: string;
  model?: string;
  maxSteps?: number;
  maxTokens?: number;
  maxCost?: number;
  maxDuration?: number;
  maxRepeats?: number;
  fallbackModel?: string[];
  wait?: boolean;
  stream: boolean;
}

export function registerStartCommand(program: Command, context: CommandContext): void {
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
    .action((agent: string, message: string, options: StartOptions) => start(context, agent, message, options));
}

/** The run `start` asks for: the agent and first message, with the options given. */
function runInput(agent: string, message: string, options: StartOptions): AgentRunInput {
  const limits: Limits = {
    ...(options.maxSteps && { maxSteps: options.maxSteps }),
    ...(options.maxTokens && { maxTokens: options.maxTokens }),
    ...(options.maxCost && { maxCostUsd: options.maxCost }),
    ...(options.maxDuration && { maxDurationSeconds: options.maxDuration }),
    ...(options.maxRepeats && { maxRepeats: options.maxRepeats }),
  };
  return {
    agent,
    message,
    ...(options.session && { mode: 'session' as const }),
    ...(options.user && { userId: options.user }),
    ...(options.model && { model: options.model }),
    ...(options.fallbackModel && { fallbackModels: options.fallbackModel }),
    ...(Object.keys(limits).length && { limits }),
  };
}

async function start(context: CommandContext, agent: string, message: string, options: StartOptions): Promise<void> {
  const json = context.json();
  const input = runInput(agent, message, options);
  // Checked before connecting: a bad input is the caller's to fix, wherever Temporal is.
  checkRunInput(input);
  const [agents, defined] = await Promise.all([context.connect(), context.localAgents?.()]);
  // A run of an agent no worker registers waits for one, then fails: say so now, not minutes later.
  if (defined && !defined.includes(agent)) {
    warn(
      `warning: AGENT_MODULES here defines no agent ${JSON.stringify(agent)} (it defines ${defined.join(', ')}): ` +
        `unless a worker registers it, the run fails UnknownAgent after the workers' UNKNOWN_AGENT_WAIT_SECONDS ` +
        `(${DEFAULT_UNKNOWN_AGENT_WAIT_SECONDS} s by default)`,
    );
  }
  const id = await agents.start(input, { workflowId: options.id });
  if (!options.wait) {
    // `workflowId`, as `list` and `status` key a run (CHANGELOG: it was `id`).
    print(json, { workflowId: id }, () => id);
    return;
  }
  // The handle first: whoever waits can follow the run elsewhere, or come back to it.
  if (!json) say(id);
  const view = streamView(json, options.stream, { transcript: false });
  if (!view) {
    const result = await withLiveLine(json, (options) => agents.result(id, options));
    print(json, { workflowId: id, result }, () => formatResult(result));
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
  if (view.json) console.log(JSON.stringify({ workflowId: id, result }));
  else if (view.onStdout) {
    view.printer.root.finish(formatAnswer(result.output));
    say(`\n${formatOutcome(result)}`);
  } else say(formatResult(result));
}

export function registerSendCommand(program: Command, context: CommandContext): void {
  program
    .command('send')
    .description('send a message to a session and print the reply')
    .argument('<id>', 'run id', runId)
    .argument('<text>', 'the message')
    .option('--no-wait', 'queue the message instead of waiting for the reply')
    .option('--no-stream', 'print the reply when it is complete, not as the model writes it')
    .option(
      '--steer',
      'steer a run (task or session) while it works: the message joins the turn in progress at its next step; ' +
        'returns once the run accepted it',
    )
    .action((id: string, text: string, options: SendOptions) => send(context, id, text, options));
}

/** `send`'s options, as commander parses them. */
interface SendOptions {
  wait: boolean;
  stream: boolean;
  steer?: boolean;
}

async function send(context: CommandContext, id: string, text: string, options: SendOptions): Promise<void> {
  const json = context.json();
  const agents = await context.connect();
  if (options.steer) {
    const outcome = await agents.steer(id, text);
    print(json, { steered: true, outcome }, () => outcome);
    return;
  }
  if (!options.wait) {
    const queued = await agents.message(id, text);
    print(json, { queued: true, outcome: queued }, () => queued);
    return;
  }
  const view = streamView(json, options.stream, { transcript: false });
  if (!view) {
    const reply = await withLiveLine(json, (options) => agents.chat(id, text, options));
    print(json, { reply }, () => formatAnswer(reply));
    return;
  }
  const reply = await whileStreaming<RunOutput>(
    agents,
    id,
    view,
    'now',
    (event, reply) => event.type === 'assistant' && shows(event.text, event.answer, reply),
    () => agents.chat(id, text),
  );
  if (view.json) console.log(JSON.stringify({ reply }));
  else if (view.onStdout) view.printer.root.finish(formatAnswer(reply));
  else say(formatAnswer(reply));
}

/**
 * Whether a recorded assistant message is the reply: its text, or for an object (an output schema)
 * the turn's final text answer (one through the `answer` tool is left to the stream's catch-up time).
 */
function shows(text: string, finalAnswer: boolean, reply: RunOutput): boolean {
  return typeof reply === 'string' ? text.trim() === reply.trim() : finalAnswer;
}

/** Who decides, for the record, unless `--by` says: the user this command runs as. */
function osUser(): string | undefined {
  try {
    return userInfo().username || undefined;
  } catch {
    return undefined;
  }
}

/** `approve` and `deny`: a decision on a tool call that awaits approval, recorded with who made it. */
export function registerDecisionCommands(program: Command, context: CommandContext): void {
  for (const [name, approve] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    const command = program
      .command(name)
      .description(`${name} a tool call that awaits approval`)
      .argument('<id>', 'run id', runId)
      .argument('<callId>', 'the call id shown by `status`')
      .option('--note <text>', 'a note for the model (and the record)')
      .option('--by <name>', 'who decides, for the record (default: the user this command runs as)');
    if (approve) {
      command.option(
        '--args <json>',
        "run the tool with these arguments instead of the model's (the whole JSON object; checked against the tool's schema)",
        jsonObject,
      );
    }
    command.action(async (id: string, callId: string, options: { note?: string; by?: string; args?: object }) => {
      const decidedBy = options.by ?? osUser();
      const outcome = await (
        await context.connect()
      ).decide(id, {
        callId,
        approve,
        note: options.note,
        ...(options.args && { args: options.args as Record<string, unknown> }),
        ...(decidedBy && { decidedBy }),
        via: ApprovalSurface.cli,
      });
      print(context.json(), { callId, approved: approve, outcome }, () => outcome);
    });
  }
}

export function registerEndCommand(program: Command, context: CommandContext): void {
  program
    .command('end')
    .description('end a session after any turn in progress')
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      await (await context.connect()).end(id);
      print(context.json(), { ended: true }, () => 'ending');
    });
}

export function registerCancelCommand(program: Command, context: CommandContext): void {
  program
    .command('cancel')
    .description('cancel a run (exit code 1 if it has closed already, saying how it ended)')
    .argument('<id>', 'run id', runId)
    .action(async (id: string) => {
      await (await context.connect()).cancel(id);
      print(context.json(), { cancelled: true }, () => `cancel requested for ${id}`);
    });
}

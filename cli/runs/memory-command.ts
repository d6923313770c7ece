/** `memory`: what memory-enabled agents remember about a user, and forgetting one fact. */
import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import { print } from '../output';
import { programName } from '../../client/shell-hints';

export function registerMemoryCommand(program: Command, context: CommandContext): void {
  program
    .command('memory')
    .description(
      'list what memory-enabled agents remember about a user, oldest first, or forget one fact ' +
        '(exit code 1 if that fact was not remembered)',
    )
    .argument('<userId>', 'the user, as runs name it (start --user)')
    .option('--agent <name>', "only this agent's own memory (without it: the shared memory and every agent's own)")
    .option('--forget <fact>', 'forget this fact (case and surrounding spaces do not matter)')
    .addHelpText(
      'after',
      `
Examples:
  $ durable-agents memory ada
  $ durable-agents memory ada --agent concierge
  $ durable-agents memory ada --forget "Prefers answers in French."`,
    )
    .action((userId: string, options: MemoryOptions) => memory(context, userId, options));
}

interface MemoryOptions {
  agent?: string;
  forget?: string;
}

async function memory(context: CommandContext, userId: string, options: MemoryOptions): Promise<void> {
  const agents = await context.connect();
  const { agent, forget: fact } = options;
  if (fact === undefined) {
    const facts = await agents.memory(userId, { agent });
    print(context.json(), facts, () =>
      facts.length
        ? facts.map((known) => `${known.rememberedAt}  ${known.text}${whose(known.agent)}`).join('\n')
        : `nothing is remembered about user ${userId}${whose(agent)}`,
    );
    return;
  }
  // A fact that was not there is a failure: a typo must not look like a fact forgotten.
  if (!(await agents.forget(userId, fact, { agent }))) {
    throw new Error(
      `no fact ${JSON.stringify(fact)} is remembered about user ${userId}${whose(agent)} (${programName()} memory ${userId} lists them)`,
    );
  }
  print(
    context.json(),
    { userId, forgotten: fact, ...(agent !== undefined && { agent }) },
    () => `forgot ${JSON.stringify(fact)} about user ${userId}${whose(agent)}`,
  );
}

/** Whose memory, after a fact or a sentence: none said for the shared memory. */
const whose = (agent: string | undefined): string => (agent === undefined ? '' : ` (agent ${agent}'s memory)`);

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
    .option('--forget <fact>', 'forget this fact (case and surrounding spaces do not matter)')
    .addHelpText(
      'after',
      `
Examples:
  $ durable-agents memory ada
  $ durable-agents memory ada --forget "Prefers answers in French."`,
    )
    .action((userId: string, options: { forget?: string }) => memory(context, userId, options.forget));
}

async function memory(context: CommandContext, userId: string, fact: string | undefined): Promise<void> {
  const agents = await context.connect();
  if (fact === undefined) {
    const facts = await agents.memory(userId);
    print(context.json(), facts, () =>
      facts.length
        ? facts.map((known) => `${known.rememberedAt}  ${known.text}`).join('\n')
        : `nothing is remembered about user ${userId}`,
    );
    return;
  }
  // A fact that was not there is a failure: a typo must not look like a fact forgotten.
  if (!(await agents.forget(userId, fact))) {
    throw new Error(
      `no fact ${JSON.stringify(fact)} is remembered about user ${userId} (${programName()} memory ${userId} lists them)`,
    );
  }
  print(context.json(), { userId, forgotten: fact }, () => `forgot ${JSON.stringify(fact)} about user ${userId}`);
}

/**
 * The CLI's run commands, registered in the order `--help` lists them: acting on runs
 * (conversation-commands.ts), reading them (inspection-commands.ts) and a user's memory.
 */
import type { Command } from 'commander';
import type { CommandContext } from '../command-context';
import {
  registerCancelCommand,
  registerDecisionCommands,
  registerEndCommand,
  registerSendCommand,
  registerStartCommand,
} from './conversation-commands';
import {
  registerExportCommand,
  registerListCommand,
  registerResultCommand,
  registerStatusCommand,
  registerTranscriptCommand,
  registerWatchCommand,
} from './inspection-commands';
import { registerMemoryCommand } from './memory-command';

export function registerRunCommands(program: Command, context: CommandContext): void {
  registerStartCommand(program, context);
  registerSendCommand(program, context);
  registerDecisionCommands(program, context);
  registerEndCommand(program, context);
  registerStatusCommand(program, context);
  registerResultCommand(program, context);
  registerWatchCommand(program, context);
  registerTranscriptCommand(program, context);
  registerExportCommand(program, context);
  registerCancelCommand(program, context);
  registerListCommand(program, context);
  registerMemoryCommand(program, context);
}

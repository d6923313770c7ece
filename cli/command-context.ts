/**
 * What the run commands share: one `AgentClient`, connected on first use with the global options
 * (`--address`, `--namespace`, `--profile`) and closed after the command's action, and whether the
 * command prints JSON (`--json`).
 */
import type { Command } from 'commander';
import { AgentClient } from '../client/agent-client';
import { loadTemporalConfig } from '../src/config';

export interface CommandContext {
  /** The client, connected once per command. */
  connect(): Promise<AgentClient>;
  /** Whether `--json` was given: JSON for scripts instead of text for people. */
  json(): boolean;
}

/** The context of `program`'s commands; the client it connects is closed after each action. */
export function commandContext(program: Command): CommandContext {
  let client: AgentClient | undefined;
  program.hook('postAction', async () => {
    await client?.close();
  });
  return {
    connect: async () => {
      const { address, namespace, profile } = program.opts();
      client ??= await AgentClient.connect(loadTemporalConfig(process.env, { address, namespace, profile }));
      return client;
    },
    json: () => Boolean(program.opts().json),
  };
}

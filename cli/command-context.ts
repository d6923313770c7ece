/**
 * What the run commands share: one `AgentClient`, connected on first use with the global options
 * (`--address`, `--namespace`, `--profile`) and closed after the command's action, and whether the
 * command prints JSON (`--json`). An address nobody named (the dev server temporal-dev.sh runs,
 * TEMPORAL_PORT, the default) is said on stderr first, where notices go: which server a command
 * acts on is never a guess.
 */
import type { Command } from 'commander';
import { AgentClient } from '../client/agent-client';
import { describeAddress, loadTemporalConfig } from '../src/config';
import { isFoundAddress } from '../src/temporal-address';
import { warn } from './output';

export interface CommandContext {
  /** The client, connected once per command. */
  connect(): Promise<AgentClient>;
  /** Whether `--json` was given: JSON for scripts instead of text for people. */
  json(): boolean;
  /** The agents this environment defines (`AGENT_MODULES`), when it defines any: `start` warns of others. */
  localAgents?(): Promise<string[] | undefined>;
}

/** The context of `program`'s commands; the client it connects is closed after each action. */
export function commandContext(program: Command): CommandContext {
  let client: AgentClient | undefined;
  program.hook('postAction', async () => {
    await client?.close();
  });
  return {
    connect: async () => {
      if (client) return client;
      const { address, namespace, profile } = program.opts();
      const config = loadTemporalConfig(process.env, { address, namespace, profile });
      client = await AgentClient.connect(config);
      if (isFoundAddress(config.addressFrom)) warn(`note: Temporal at ${describeAddress(config)}`);
      return client;
    },
    json: () => Boolean(program.opts().json),
  };
}

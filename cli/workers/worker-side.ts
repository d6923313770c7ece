/**
 * What the CLI's worker-side commands (`agents`, `worker`, `dev`) need from the worker side, and how
 * they get it. The client imports nothing of the worker side (README "Layout"): the entries that run
 * the CLI (cli.ts, the package bin) hand `main` a loader of the worker entry (worker.ts), which
 * only these commands call, so the others start without loading the worker SDK.
 */
import type { Command } from 'commander';
import { withTemporalOverrides, type TemporalOverrides, type WorkerConfig } from '../../src/config';
import type { AgentRegistry } from '../../src/registry';

export type Env = Record<string, string | undefined>;

/** What worker.ts exports for these commands. */
export interface WorkerSide {
  /** The agents a worker with `config` registers: those `AGENT_MODULES` names (runtime/agent-modules.ts). */
  buildRegistry(config: WorkerConfig): Promise<AgentRegistry>;
  /**
   * Runs a worker configured from `env` as `npm run worker` does, until SIGINT, SIGTERM or `stop`;
   * resolves to its exit code (1 after a payload it cannot decrypt, which it says on stderr).
   */
  runWorker(options: {
    offline: boolean;
    env?: Env;
    overrides?: TemporalOverrides;
    stop?: Promise<void>;
    onReady?: () => void;
  }): Promise<void>;
}

/** Loads the worker side (once it is needed). */
export type LoadWorkerSide = () => Promise<WorkerSide>;

/** For a caller that passed no loader: the commands are listed, and say why they cannot run. */
export const noWorkerSide: LoadWorkerSide = () =>
  Promise.reject(
    new Error('this program was started without the worker side (run it as durable-agents or npm run client)'),
  );

/** The global options as an action sees them. */
export function globalOptions(command: Command): {
  json: boolean;
  address?: string;
  namespace?: string;
  profile?: string;
} {
  const { json, address, namespace, profile } = command.optsWithGlobals();
  return { json: Boolean(json), address, namespace, profile };
}

/** The global `--address`, `--namespace` and `--profile`, which win over their env twins. */
export function temporalFlags(command: Command): TemporalOverrides {
  const { address, namespace, profile } = globalOptions(command);
  return { address, namespace, profile };
}

/** This process's env with the global `--address`, `--namespace` and `--profile` in place of their env twins. */
export function commandEnv(command: Command): Env {
  const { address, namespace, profile } = globalOptions(command);
  return withTemporalOverrides(process.env, { address, namespace, profile });
}

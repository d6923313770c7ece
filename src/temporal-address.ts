/**
 * Where Temporal is when nothing names it, found one way by every entry (the worker, the CLI and its
 * `dev`, the demo, AgentClient), through src/config.ts: an address named explicitly wins there
 * (`--address`, `TEMPORAL_ADDRESS`, a profile of the temporal CLI's config file); else the dev server
 * `./temporal-dev.sh` runs for this checkout (its run folder records the port it started on, whatever
 * TEMPORAL_PORT says now); else TEMPORAL_PORT on loopback; else the default.
 *
 * The one module of src/ that uses Node built-ins (eslint.config.mjs allows it): it reads the script's
 * run folder, for configuration only. No workflow code imports it (test/unit/lint.test.ts checks).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { DEFAULT_TEMPORAL_ADDRESS } from './defaults';
import { ConfigError } from './errors';

type Env = Record<string, string | undefined>;

/** Where the script's dev server listens: loopback only (`--ip 127.0.0.1`). */
const LOOPBACK = '127.0.0.1';

/**
 * Why an address is the one used: named by the caller (`flag`: `--address`), by `TEMPORAL_ADDRESS`
 * or by a profile; or found (`dev server`, `TEMPORAL_PORT`, `default`).
 */
export type AddressSource = 'flag' | 'TEMPORAL_ADDRESS' | 'profile' | 'dev server' | 'TEMPORAL_PORT' | 'default';

/** An address and why it is the one: the first line of every entry says both. */
export interface AddressFrom {
  source: AddressSource;
  /** For people: `TEMPORAL_ADDRESS`, `the dev server ./temporal-dev.sh runs: .temporal/server.addr`, ... */
  reason: string;
}

/** Whether nobody named the address (it was found): the CLI then says which it found. */
export const isFoundAddress = (from: AddressFrom | undefined): boolean =>
  from !== undefined && ['dev server', 'TEMPORAL_PORT', 'default'].includes(from.source);

let checkout: string | null | undefined;

/**
 * The checkout of this repository the code runs from (where temporal-dev.sh is), from the sources or
 * a build (dist/); undefined for the installed package, which ships no script.
 */
export function checkoutRoot(): string | undefined {
  checkout ??=
    [join(__dirname, '..'), join(__dirname, '..', '..')].find((dir) => existsSync(join(dir, 'temporal-dev.sh'))) ??
    null;
  return checkout ?? undefined;
}

/** The folder of the script's pid, log and ports (TEMPORAL_RUN_DIR, relative to the checkout, as the script reads it). */
export function runDir(env: Env, root: string = checkoutRoot() ?? '.'): string {
  return resolve(root, env.TEMPORAL_RUN_DIR || '.temporal');
}

/** The ports the script's server was started with (its `server.addr`), if it recorded them. */
export function recordedPorts(dir: string): { TEMPORAL_PORT?: number; TEMPORAL_UI_PORT?: number } | undefined {
  const file = join(dir, 'server.addr');
  if (!existsSync(file)) return undefined;
  const ports: Record<string, number> = {};
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    // Data, never code: known keys with port numbers only (as the script itself reads it).
    const match = /^(TEMPORAL_PORT|TEMPORAL_UI_PORT|CODEC_SERVER_PORT)=(\d{1,5})$/.exec(line);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65_535) {
      throw new ConfigError(`state file ${file} is invalid and was not used; remove it, or run ./temporal-dev.sh stop`);
    }
    ports[match[1]] = Number(match[2]);
  }
  return ports;
}

/** Whether the process named by the run folder's `server.pid` lives and is a dev server (a pid may be reused). */
function serverAlive(dir: string): boolean {
  let pid: number;
  try {
    const text = readFileSync(join(dir, 'server.pid'), 'utf8');
    if (!/^[1-9]\d{0,9}\n?$/.test(text)) return false;
    pid = Number(text.trim());
  } catch {
    return false;
  }
  try {
    process.kill(pid, 0);
  } catch (error) {
    // Alive, but another user's: not this script's server.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // Where /proc says (Linux), as the script checks: the command line of a dev server.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('start-dev');
  } catch {
    return true;
  }
}

/** The dev server `./temporal-dev.sh` runs for `env` (its TEMPORAL_RUN_DIR), if this is a checkout and it runs. */
export function runningDevServer(env: Env): { address: string; uiPort?: number; runDir: string } | undefined {
  const root = checkoutRoot();
  if (!root) return undefined;
  const dir = runDir(env, root);
  if (!serverAlive(dir)) return undefined;
  const ports = recordedPorts(dir);
  if (!ports?.TEMPORAL_PORT) return undefined;
  return { address: `${LOOPBACK}:${ports.TEMPORAL_PORT}`, uiPort: ports.TEMPORAL_UI_PORT, runDir: dir };
}

/** A path for people: relative to the checkout when inside it. */
function shownPath(path: string, root: string | undefined): string {
  const inside = root ? relative(root, path) : '';
  return inside && !inside.startsWith('..') ? inside : path;
}

/**
 * Where Temporal is when no flag, variable or profile names it: the dev server `./temporal-dev.sh`
 * runs, else TEMPORAL_PORT on loopback, else the default.
 */
export function foundTemporalAddress(env: Env): { address: string; from: AddressFrom } {
  const server = runningDevServer(env);
  if (server) {
    const file = shownPath(join(server.runDir, 'server.addr'), checkoutRoot());
    return {
      address: server.address,
      from: { source: 'dev server', reason: `the dev server ./temporal-dev.sh runs: ${file}` },
    };
  }
  const port = env.TEMPORAL_PORT?.trim();
  if (port) {
    if (!/^\d{1,5}$/.test(port) || Number(port) < 1 || Number(port) > 65_535) {
      throw new ConfigError(`invalid environment: TEMPORAL_PORT must be a port number from 1 to 65535, not ${port}`);
    }
    return { address: `${LOOPBACK}:${Number(port)}`, from: { source: 'TEMPORAL_PORT', reason: 'TEMPORAL_PORT' } };
  }
  return { address: DEFAULT_TEMPORAL_ADDRESS, from: { source: 'default', reason: 'the default' } };
}

/**
 * A throw-away PostgreSQL cluster for the DBOS peer: Debian's server binaries (found as
 * deploy/local-cluster/cluster.sh finds them: env PG_BIN, else the newest /usr/lib/postgresql/<v>/bin;
 * installed with `apt-get install -y postgresql` when missing and we are root), a fresh data folder
 * in the temp dir, its own loopback port, a random password; stopped and removed after.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../testing/dev-server';

const DEBIAN_PG = '/usr/lib/postgresql';

export interface BenchPostgres {
  /** postgresql://bench:<password>@127.0.0.1:<port>/<database> */
  url(database: string): string;
  /** The postmaster; its backends are its children. */
  pid: number;
  /** Runs `sql` with psql and returns its unaligned output. */
  query(database: string, sql: string): string;
  stop(): void;
}

function newestDebianBin(): string | undefined {
  if (!existsSync(DEBIAN_PG)) return undefined;
  const versions = readdirSync(DEBIAN_PG)
    .filter((version) => existsSync(join(DEBIAN_PG, version, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  return versions.length ? join(DEBIAN_PG, versions.at(-1)!, 'bin') : undefined;
}

/** The folder with initdb, pg_ctl and psql; installs Debian's postgresql when it is missing and we may. */
export function postgresBin(): string {
  const given = process.env.PG_BIN;
  if (given) {
    if (!existsSync(join(given, 'initdb')) || !existsSync(join(given, 'pg_ctl')))
      throw new Error(`PG_BIN=${given} has no initdb and pg_ctl`);
    return given;
  }
  const found = newestDebianBin();
  if (found) return found;
  const how = 'apt-get install -y postgresql';
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get'))
    throw new Error(`PostgreSQL's server is not installed (the DBOS peer needs it): sudo ${how}, or set PG_BIN`);
  console.error(`PostgreSQL is not installed: ${how} ...`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync('apt-get', ['install', '-y', '-q', 'postgresql'], { env, stdio: ['ignore', 2, 2] });
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 2, 2] });
    install();
  }
  const installed = newestDebianBin();
  if (!installed) throw new Error(`${how} left no ${DEBIAN_PG}/<version>/bin/pg_ctl`);
  return installed;
}

/** Starts a fresh cluster with user `bench` on a free loopback port; resolves once it accepts connections. */
export async function startPostgres(): Promise<BenchPostgres> {
  const bin = postgresBin();
  const root = process.getuid?.() === 0;
  // PostgreSQL refuses to run as root: then the cluster belongs to the postgres user.
  const asOwner = (command: string, args: string[]) =>
    execFileSync(root ? 'runuser' : command, root ? ['-u', 'postgres', '--', command, ...args] : args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const dir = mkdtempSync(join(tmpdir(), 'bench-postgres-'));
  chmodSync(dir, 0o777);
  const data = join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  const port = await freePort();
  try {
    asOwner(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'bench',
      `--pwfile=${pwfile}`,
      '--auth=scram-sha-256',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
    ]);
    rmSync(pwfile);
    asOwner(join(bin, 'pg_ctl'), [
      '-D',
      data,
      '-l',
      join(dir, 'postgres.log'),
      '-o',
      `-p ${port} -k '' -c listen_addresses=127.0.0.1`,
      '-w',
      '-t',
      '60',
      'start',
    ]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not start PostgreSQL in ${dir}: ${(error as { stderr?: string }).stderr ?? error}`, {
      cause: error,
    });
  }
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url: (database) => `postgresql://bench:${password}@127.0.0.1:${port}/${database}`,
    pid,
    // The password in env, not on a command line other users can read.
    query: (database, sql) =>
      execFileSync(
        join(bin, 'psql'),
        [
          '-X',
          '-A',
          '-t',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          'bench',
          '-d',
          database,
          '-c',
          sql,
        ],
        { encoding: 'utf8', env: { ...process.env, PGPASSWORD: password } },
      ).trim(),
    stop() {
      try {
        asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

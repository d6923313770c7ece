/**
 * CPU time and memory of a process, read from Linux's /proc: the bench measures worker, server and
 * peer processes from outside, so each figure is that process's own, whatever it runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`, 100 on nearly every Linux). */
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/**
 * User plus system CPU seconds `pid` has used since it started, all its threads included (not its
 * children). Fields 14 and 15 of /proc/<pid>/stat, counted from 1 with the pid first.
 */
export function cpuSeconds(pid: number): number {
  const fields = statFields(pid);
  // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12].
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** The executable's short name (/proc/<pid>/comm), to check which program a pid is. */
export function commandName(pid: number): string {
  return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
}

/** Resident memory of `pid` now (`rss`) and at its peak (`peak`), in bytes: VmRSS and VmHWM of /proc/<pid>/status. */
export function memoryBytes(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** Every living descendant of `pid` (children, their children, ...), from /proc/<pid>/task/<tid>/children. */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const visit = (parent: number) => {
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return;
    }
    for (const tid of tasks) {
      let children: string;
      try {
        children = readFileSync(`/proc/${parent}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean).map(Number)) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

/** CPU seconds of a process and, separately, of its descendants, at one moment. */
export interface CpuSample {
  own: number;
  descendants: number;
}

/** Samples the CPU of `pid` and of its living descendants (a descendant that exited is not counted). */
export function sampleCpu(pid: number): CpuSample {
  let other = 0;
  for (const child of descendants(pid)) {
    try {
      other += cpuSeconds(child);
    } catch {
      // It exited between the listing and the read.
    }
  }
  return { own: cpuSeconds(pid), descendants: other };
}

/**
 * A CPU meter on one process, or several counted together (a cluster's services): `stop()` gives the
 * seconds used since it was made (own and descendants').
 */
export function cpuMeter(pids: number | number[]): { stop(): CpuSample } {
  const sample = () =>
    [pids]
      .flat()
      .map(sampleCpu)
      .reduce((sum, one) => ({ own: sum.own + one.own, descendants: sum.descendants + one.descendants }));
  const start = sample();
  return {
    stop() {
      const end = sample();
      return { own: end.own - start.own, descendants: Math.max(0, end.descendants - start.descendants) };
    },
  };
}

import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Linux clock ticks per second, as /proc reports CPU time (USER_HZ, 100 on every Linux port). */
const TICKS_PER_SECOND = 100;

/** The machine's CPU ticks from /proc/stat: all of them, and those not idle. */
export interface MachineTicks {
  busy: number;
  total: number;
}

export function machineTicks(): MachineTicks {
  const ticks = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  return { busy: total - ticks[3]! - (ticks[4] ?? 0), total }; // idle and iowait are not busy
}

/** Busy cores of the whole machine between two readings: whether a run was short of CPU, whoever used it. */
export function busyCores(before: MachineTicks, after: MachineTicks = machineTicks()): number {
  return Math.round(((after.busy - before.busy) / (after.total - before.total)) * cpus().length * 100) / 100;
}

/**
 * User + system CPU seconds of a live process (all its threads), from /proc/<pid>/stat; NaN
 * when there is no such process or no /proc.
 */
export function processCpuSeconds(pid: number | undefined): number {
  return pid === undefined ? Number.NaN : statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * User + system CPU seconds of a live process's main thread (for Node, its event loop) and, for
 * a node:cluster primary, of its workers' main threads instead (the primary serves no
 * requests); NaN when there is no such process or no /proc.
 */
export function eventLoopCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  let children: number[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return Number.NaN;
  }
  const mains = children.length > 0 ? children : [pid];
  return mains.reduce((sum, p) => sum + statCpuSeconds(`/proc/${p}/task/${p}/stat`), 0);
}

/** User + system CPU seconds of the calling thread alone (/proc/thread-self/stat); NaN without /proc. */
export function threadCpuSeconds(): number {
  return statCpuSeconds('/proc/thread-self/stat');
}

function statCpuSeconds(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    // After the command's ")" come field 3 (state) onwards: utime is field 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return Number.NaN;
  }
}

/** The command name of a live process (/proc/<pid>/comm), or undefined. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

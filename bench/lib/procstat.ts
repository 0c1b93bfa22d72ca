/** CPU time and memory of a process from /proc (Linux). */
import { readFileSync } from 'node:fs';

const TICKS_PER_SEC = 100;

export interface ProcSample {
  /** utime + stime in seconds. */
  cpuSec: number;
  /** VmRSS, MiB. */
  rssMb: number;
  /** VmHWM (peak RSS), MiB. */
  peakRssMb: number;
}

/** Reads /proc/<pid>/stat and /proc/<pid>/status; undefined when the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which sits in parentheses and may hold spaces: field 3 is state, 14 utime, 15 stime.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSec = (Number(rest[11]) + Number(rest[12])) / TICKS_PER_SEC;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { cpuSec, rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Busy CPU time of the whole machine so far, summed over all CPUs, and the number of CPUs, from /proc/stat. */
export function machineCpu(): { busySec: number; cpus: number } {
  const text = readFileSync('/proc/stat', 'utf8');
  // cpu user nice system idle iowait irq softirq steal ...
  const f = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1).map(Number);
  const busy = f[0]! + f[1]! + f[2]! + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  const cpus = text.split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
  return { busySec: busy / TICKS_PER_SEC, cpus };
}

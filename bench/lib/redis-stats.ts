/** Where Redis spends its one thread: INFO commandstats, read at the start and end of the window. */
import type { Redis } from 'ioredis';

export interface CommandStat {
  command: string;
  calls: number;
  usec: number;
}

/** Every command's calls and microseconds so far (commands run inside scripts are counted under their own name too). */
export async function commandStats(redis: Redis): Promise<Map<string, CommandStat>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, CommandStat>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) out.set(m[1]!, { command: m[1]!, calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

/** The `top` commands by time spent between two readings, per check. */
export function topPerCheck(before: Map<string, CommandStat>, after: Map<string, CommandStat>, checks: number, top = 10): { command: string; callsPerCheck: number; usPerCheck: number }[] {
  return [...after.values()]
    .map((a) => ({ command: a.command, calls: a.calls - (before.get(a.command)?.calls ?? 0), usec: a.usec - (before.get(a.command)?.usec ?? 0) }))
    .filter((d) => d.calls > 0)
    .sort((x, y) => y.usec - x.usec)
    .slice(0, top)
    .map((d) => ({ command: d.command, callsPerCheck: checks ? d.calls / checks : 0, usPerCheck: checks ? d.usec / checks : 0 }));
}

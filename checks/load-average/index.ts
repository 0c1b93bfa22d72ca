/** Check: the machine's 1, 5 and 15 minute load averages are under their thresholds. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { hostFailure, hostFor } from '../../plugin-support/host.js';
import { sshField } from '../../plugin-support/ssh-host.js';

const threshold = (minutes: number) => ({
  type: 'number' as const,
  description: `Highest healthy ${minutes}-minute load average (per core when perCore is true); no limit when absent.`,
  minimum: 0,
});

export const meta: PluginMeta = {
  title: 'Load average',
  description:
    "Reads the load averages from /proc/loadavg of the worker's machine, or over SSH when ssh is set, and compares them " +
    'with max1, max5 and max15; with perCore: true each average is divided by the number of CPU cores of that machine ' +
    'first. Healthy when every set threshold holds; failed naming each average that is over, with its value and the ' +
    'limit. An unreadable /proc/loadavg or an unreachable SSH host makes the result unknown (a changed SSH host key ' +
    'fails it). Metrics: load1, load5, load15 (as read) and cores.',
  fields: {
    type: 'object',
    properties: {
      max1: threshold(1),
      max5: threshold(5),
      max15: threshold(15),
      perCore: { type: 'boolean', description: 'Divide each average by the number of CPU cores before comparing; default false.', default: false },
      ssh: sshField,
    },
    additionalProperties: false,
  },
};

/** Reads /proc/loadavg; failed when an average is over its threshold. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const host = hostFor(job, ctx.signal);
  const perCore = job.data.perCore === true;
  let loads: number[];
  let cores: number;
  try {
    [loads, cores] = await Promise.all([
      host.readText('/proc/loadavg').then((text) => {
        const l = text.trim().split(/\s+/).slice(0, 3).map(Number);
        if (l.length < 3 || l.some((n) => !Number.isFinite(n))) throw new Error('unexpected format');
        return l;
      }),
      host.cores(),
    ]);
  } catch (err) {
    return hostFailure(err) ?? { status: 'unknown', message: `cannot read the load average of ${host.label}: ${(err as Error).message}` };
  }
  const metrics = { load1: loads[0]!, load5: loads[1]!, load15: loads[2]!, cores };
  const over: string[] = [];
  const shown: string[] = [];
  (['max1', 'max5', 'max15'] as const).forEach((key, i) => {
    const minutes = key.slice(3);
    const value = perCore ? loads[i]! / cores : loads[i]!;
    const v = Math.round(value * 100) / 100;
    shown.push(`${minutes}m ${v}`);
    const max = job.data[key];
    if (typeof max === 'number' && value > max) over.push(`${minutes}-minute load ${v}${perCore ? ' per core' : ''} is over ${key} ${max}`);
  });
  if (over.length) return { status: 'failed', message: over.join('; ') + host.where, metrics };
  return { status: 'healthy', message: `load ${shown.join(', ')}${perCore ? ` per core (${cores} cores)` : ''}${host.where}`, metrics };
}

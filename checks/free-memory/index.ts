/** Check: the machine has at least minMb or minPercent of memory available. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { hostFailure, hostFor } from '../../plugin-support/host.js';
import { sshField } from '../../plugin-support/ssh-host.js';

export const meta: PluginMeta = {
  title: 'Free memory',
  description:
    "Reads MemAvailable and MemTotal from /proc/meminfo of the worker's machine, or over SSH when ssh is set (memory " +
    'that can be used without swapping, page cache included), and compares it with minMb and/or minPercent; at least ' +
    'one of them must be set. Healthy when every set minimum holds, failed naming the minimum that is not met. An ' +
    'unreadable /proc/meminfo or an unreachable SSH host makes the result unknown (a changed SSH host key fails it). ' +
    'Metrics: availableMb, totalMb, availablePercent.',
  fields: {
    type: 'object',
    properties: {
      minMb: { type: 'number', description: 'Fewest megabytes (MiB) of available memory that are healthy.', minimum: 0 },
      minPercent: { type: 'number', description: 'Lowest percentage of total memory available that is healthy, 0-100.', minimum: 0, maximum: 100 },
      ssh: sshField,
    },
    additionalProperties: false,
  },
};

/** Compares MemAvailable with data.minMb / data.minPercent. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const { minMb, minPercent } = job.data;
  if (typeof minMb !== 'number' && typeof minPercent !== 'number') {
    return { status: 'unknown', message: `monitor "${job.name}": set data.minMb or data.minPercent` };
  }
  const host = hostFor(job, ctx.signal);
  let availableKb: number;
  let totalKb: number;
  try {
    const text = await host.readText('/proc/meminfo');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    availableKb = field('MemAvailable');
    totalKb = field('MemTotal');
    if (!Number.isFinite(availableKb) || !(totalKb > 0)) throw new Error('no MemAvailable / MemTotal line');
  } catch (err) {
    return hostFailure(err) ?? { status: 'unknown', message: `cannot read the memory of ${host.label}: ${(err as Error).message}` };
  }
  const availableMb = Math.round((availableKb / 1024) * 10) / 10;
  const totalMb = Math.round((totalKb / 1024) * 10) / 10;
  const availablePercent = Math.round((availableKb / totalKb) * 1000) / 10;
  const metrics = { availableMb, totalMb, availablePercent };
  const short: string[] = [];
  if (typeof minMb === 'number' && availableMb < minMb) short.push(`${availableMb} MB available is under minMb ${minMb}`);
  if (typeof minPercent === 'number' && availablePercent < minPercent) short.push(`${availablePercent}% available is under minPercent ${minPercent}`);
  if (short.length) return { status: 'failed', message: short.join('; ') + host.where, metrics };
  return { status: 'healthy', message: `${availableMb} MB (${availablePercent}%) of ${totalMb} MB available${host.where}`, metrics };
}

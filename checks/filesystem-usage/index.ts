/** Check: the filesystem holding a path is not fuller than maxPercent. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { hostFailure, hostFor } from '../../plugin-support/host.js';
import { sshField } from '../../plugin-support/ssh-host.js';

export const meta: PluginMeta = {
  title: 'Filesystem usage',
  description:
    "Measures the filesystem that holds path (default /) on the worker's machine with statfs, or over SSH when ssh is " +
    'set (with `stat -f`), and compares the share used with maxPercent. Used is counted as df does: (total - free) / ' +
    '(total - free + available to unprivileged users), so ' +
    'the blocks reserved for root count as full. Healthy at or under maxPercent, failed above it; a path that does not ' +
    'exist or cannot be read fails with the reason; an unreachable SSH host makes the result unknown (a changed SSH host key ' +
    'fails it). Metrics: usedPercent, availableMb, totalMb.',
  fields: {
    type: 'object',
    properties: {
      path: { type: 'string', description: 'Any path on the filesystem to measure (absolute), default /.', pattern: '^/', default: '/' },
      maxPercent: { type: 'number', description: 'Highest healthy percentage used, 0-100.', minimum: 0, maximum: 100 },
      ssh: sshField,
    },
    required: ['maxPercent'],
    additionalProperties: false,
  },
};

/** statfs(data.path); failed when more than data.maxPercent is used. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const path = typeof job.data.path === 'string' ? job.data.path : '/';
  const maxPercent = job.data.maxPercent;
  if (typeof maxPercent !== 'number') return { status: 'unknown', message: `monitor "${job.name}": data.maxPercent must be a number 0-100` };
  const host = hostFor(job, ctx.signal);
  let space;
  try {
    space = await host.diskSpace(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return hostFailure(err) ?? { status: 'failed', message: `cannot measure ${path} on ${host.label}: ${e.code ? `${e.code}: ` : ''}${e.message}` };
  }
  const used = space.totalBytes - space.freeBytes;
  const usable = used + space.availableBytes;
  const usedPercent = usable > 0 ? Math.round((used / usable) * 1000) / 10 : 0;
  const mb = (b: number) => Math.round(b / 1024 / 1024);
  const metrics = { usedPercent, availableMb: mb(space.availableBytes), totalMb: mb(space.totalBytes) };
  const text = `${path} is ${usedPercent}% used, ${metrics.availableMb} MB available${host.where}`;
  if (usedPercent > maxPercent) return { status: 'failed', message: `${text}: over maxPercent ${maxPercent}`, metrics };
  return { status: 'healthy', message: text, metrics };
}

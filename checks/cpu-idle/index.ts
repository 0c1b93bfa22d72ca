/** Check: the CPUs were idle at least minIdlePercent of a short sample. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { timeLimit, timeoutField } from '../../plugin-support/fields.js';
import { hostFailure, hostFor, type Host } from '../../plugin-support/host.js';
import { sshField } from '../../plugin-support/ssh-host.js';

export const meta: PluginMeta = {
  title: 'CPU idle',
  description:
    "Reads the aggregate cpu line of /proc/stat of the worker's machine, or over SSH when ssh is set, twice, sampleMs " +
    'apart (default 500), and computes the share of CPU time spent idle (iowait counted as idle) over that interval. Healthy when it is at least ' +
    'minIdlePercent, failed with the measured share otherwise. The sample is shortened to fit well inside the time limit, ' +
    'and the message says so; a deadline reached while sampling fails the check as timed out. An unreadable /proc/stat or ' +
    'an unreachable SSH host makes the result unknown (a changed SSH host key fails it). Metrics: idlePercent, sampleMs.',
  fields: {
    type: 'object',
    properties: {
      minIdlePercent: { type: 'number', description: 'Lowest healthy idle percentage, 0-100.', minimum: 0, maximum: 100 },
      sampleMs: { type: 'integer', description: 'Milliseconds between the two readings, default 500; shortened to fit the time limit.', minimum: 50, maximum: 60_000, default: 500 },
      timeoutMs: timeoutField,
      ssh: sshField,
    },
    required: ['minIdlePercent'],
    additionalProperties: false,
  },
};

/** Idle and total jiffies from the first ("cpu") line of /proc/stat. */
async function sample(host: Host): Promise<{ idle: number; total: number }> {
  const line = (await host.readText('/proc/stat')).split('\n', 1)[0]!;
  const f = line.trim().split(/\s+/);
  if (f[0] !== 'cpu' || f.length < 5) throw new Error('no aggregate cpu line');
  // user nice system idle iowait irq softirq steal; guest time is already inside user and nice.
  const v = f.slice(1, 9).map(Number);
  return { idle: v[3]! + (v[4] ?? 0), total: v.reduce((a, b) => a + b, 0) };
}

/** Samples /proc/stat twice; failed when the idle share is under data.minIdlePercent. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  const min = job.data.minIdlePercent;
  if (typeof min !== 'number') return { status: 'unknown', message: `monitor "${job.name}": data.minIdlePercent must be a number 0-100` };
  const wanted = typeof job.data.sampleMs === 'number' && job.data.sampleMs > 0 ? job.data.sampleMs : 500;
  // Leave a fifth of the limit for reading and reporting.
  const sampleMs = Math.max(1, Math.min(wanted, Math.floor(timeLimit(job) * 0.8)));
  const host = hostFor(job, ctx.signal);
  let first;
  let second;
  try {
    first = await sample(host);
    const cut = await new Promise<boolean>((resolve) => {
      if (ctx.signal.aborted) return resolve(true);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        ctx.signal.removeEventListener('abort', onAbort);
        resolve(false);
      }, sampleMs);
      ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
    if (cut) return { status: 'failed', message: `timed out while sampling /proc/stat for ${sampleMs} ms${host.where}` };
    second = await sample(host);
  } catch (err) {
    return hostFailure(err) ?? { status: 'unknown', message: `cannot read /proc/stat on ${host.label}: ${(err as Error).message}` };
  }
  const total = second.total - first.total;
  const idlePercent = total > 0 ? Math.round(((second.idle - first.idle) / total) * 1000) / 10 : 100;
  const metrics = { idlePercent, sampleMs };
  const note = sampleMs < wanted ? ` (sample shortened from ${wanted} ms to fit the time limit)` : '';
  const text = `CPU ${idlePercent}% idle over ${sampleMs} ms${note}${host.where}`;
  if (idlePercent < min) return { status: 'failed', message: `${text}: under minIdlePercent ${min}`, metrics };
  return { status: 'healthy', message: text, metrics };
}

/** Check: a dead man's switch. Healthy while pings to /ping/<token> come at least once per interval + grace. */
import { formatDuration } from '../../src/core/duration.js';
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { ago, cannotReadSignals, prepareToken, tokenField } from '../_shared/told.js';

export const DEFAULT_GRACE_S = 60;

export const meta: PluginMeta = {
  title: 'Heartbeat (dead man\'s switch)',
  description:
    'For cron jobs and backups: the job calls GET or POST /ping/<token> on the web process when it has run. Healthy while ' +
    'the last ping is at most interval + grace old; failed when none came in that time ("no ping for 5m12s, expected every ' +
    '5m + 1m grace"). /ping/<token>/fail reports a failure at once (reactions run immediately) and the monitor stays failed ' +
    'until the next ping; a ping to a failed monitor makes it healthy at once. A new monitor is healthy for interval + grace ' +
    'after its creation while it waits for its first ping. The token is generated when left out.',
  fields: {
    type: 'object',
    properties: {
      token: tokenField,
      grace: { type: 'integer', description: `Seconds a ping may be late before the monitor fails (default ${DEFAULT_GRACE_S}).`, minimum: 0, maximum: 30 * 86400 },
    },
    required: ['token'],
    additionalProperties: false,
  },
};

export const prepareData = prepareToken('heartbeat');

/** Judges the time since the last ping against the monitor's interval + grace. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  if (!job.interval) return { status: 'unknown', message: `monitor "${job.name}": a heartbeat is judged against its monitor's interval; run it as a monitor` };
  if (!ctx.lastSignal) return cannotReadSignals(job);
  const grace = typeof job.data.grace === 'number' ? job.data.grace : DEFAULT_GRACE_S;
  const allowedMs = (job.interval + grace) * 1000;
  const expected = `expected every ${formatDuration(job.interval)} + ${formatDuration(grace)} grace`;
  const last = await ctx.lastSignal();
  const now = Date.now();
  if (!last) {
    const since = job.createdAt ?? now;
    if (now - since <= allowedMs) return { status: 'healthy', message: `waiting for the first ping (${expected}; monitor created ${ago(since, now)} ago)` };
    return { status: 'failed', message: `no ping since the monitor was created ${ago(since, now)} ago, ${expected}` };
  }
  const metrics = { secondsSincePing: Math.round((now - last.at) / 1000) };
  if (last.status === 'failed') {
    return { status: 'failed', message: `the job reported a failure ${ago(last.at, now)} ago${last.message ? `: ${last.message}` : ''}`, metrics };
  }
  if (now - last.at <= allowedMs) return { status: 'healthy', message: `last ping ${ago(last.at, now)} ago`, metrics };
  return { status: 'failed', message: `no ping for ${ago(last.at, now)}, ${expected}`, metrics };
}

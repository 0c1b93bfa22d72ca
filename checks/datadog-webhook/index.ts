/** Check: a monitor told its status by a Datadog monitor's webhook notification; the scheduled check repeats the last one. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta, Status } from '../../src/core/types.js';
import { cannotReadSignals, lastCallResult, prepareToken, tokenField } from '../_shared/told.js';

const LEVEL: Status[] = ['failed', 'healthy', 'unknown'];

export const meta: PluginMeta = {
  title: 'Datadog webhook',
  description:
    'A Datadog Webhooks integration posts to /api/v1/webhook/<monitor id>/datadog with the monitor\'s token (custom ' +
    'header X-CloudRoutes-Token, or ?token= in the URL). Its alert transition ($ALERT_TRANSITION in an alert_transition ' +
    'field, or the [Triggered]/[Recovered]/... prefix of the title of Datadog\'s default payload) sets the status: ' +
    'Triggered, Re-Triggered and Renotify are failed, Recovered is healthy, Warn and No Data are as the fields warn and ' +
    'noData say (default unknown: noted, no reaction). Each notification goes through the sink at once; the scheduled ' +
    'check repeats the last one. The token is generated when left out.',
  fields: {
    type: 'object',
    properties: {
      token: tokenField,
      warn: { type: 'string', enum: LEVEL, description: 'Status for Warn / Re-Warn notifications (default unknown).' },
      noData: { type: 'string', enum: LEVEL, description: 'Status for No Data / Re-No Data notifications (default unknown).' },
    },
    required: ['token'],
    additionalProperties: false,
  },
};

export const prepareData = prepareToken('datadog-webhook');

/** Reports the status of the last Datadog notification. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  if (!ctx.lastSignal) return cannotReadSignals(job);
  return lastCallResult(await ctx.lastSignal(), 'Datadog');
}

/** Check: a monitor whose status is told by POST /api/v1/webhook/<monitor id>; the scheduled check repeats the last call's status. */
import type { CheckContext, CheckJob, CheckResult, PluginMeta } from '../../src/core/types.js';
import { cannotReadSignals, lastCallResult, prepareToken, tokenField } from '../_shared/told.js';

export const meta: PluginMeta = {
  title: 'Webhook (told its status)',
  description:
    'Another system posts {"status": "healthy"|"failed", "message"?} to /api/v1/webhook/<monitor id> with the monitor\'s ' +
    'token (header X-CloudRoutes-Token or ?token=). Each call goes through the sink at once, like a check result, so ' +
    'reactions run without waiting. The scheduled check repeats the last call\'s status (unknown before the first call). ' +
    'The token is generated when left out.',
  fields: {
    type: 'object',
    properties: { token: tokenField },
    required: ['token'],
    additionalProperties: false,
  },
};

export const prepareData = prepareToken('webhook');

/** Reports the status of the last webhook call. */
export async function check(job: CheckJob, ctx: CheckContext): Promise<CheckResult> {
  if (!ctx.lastSignal) return cannotReadSignals(job);
  return lastCallResult(await ctx.lastSignal(), 'webhook');
}

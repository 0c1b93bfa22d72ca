/** The run rule of reactions that act on a failure and undo it on recovery (pagerduty, cloudflare-dns-failover). */
import type { ReactionEvent, ReactionRuleInput } from '../../src/core/types.js';

/** Runs on failed results once the fail count reaches the trigger and on healthy ones, whatever call-on. */
export function failedOrHealthy({ reaction, status, failcount }: ReactionRuleInput): boolean {
  return status === 'healthy' || (status === 'failed' && failcount >= reaction.trigger);
}

/** Whether a healthy event follows a result that was not healthy (failed, unknown or none), so there may be something to undo. */
export function isRecovery(event: ReactionEvent): boolean {
  return event.status === 'healthy' && event.previousStatus !== 'healthy';
}

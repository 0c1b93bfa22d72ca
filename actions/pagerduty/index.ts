/** Reaction: opens and resolves a PagerDuty alert through the Events API v2. */
import { render } from '../../src/core/template.js';
import type { ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { joinUrl, sendRequest } from '../_shared/http.js';
import { failedOrHealthy, isRecovery } from '../_shared/recovery.js';

export const DEFAULT_SUMMARY = '{{monitor.name}} is {{status}}: {{message}}';

export const meta: ReactionModule['meta'] = {
  title: 'PagerDuty alert',
  kind: 'notify',
  dryRun: true,
  description:
    'Sends Events API v2 events to PagerDuty (POST <baseUrl>/v2/enqueue): "trigger" on a failed result once the fail count ' +
    'reaches the reaction\'s trigger, and "resolve" on the first healthy result after a failed or unknown one, both with ' +
    'dedup_key cloudroutes-<monitor id> so one alert per monitor opens and closes. It runs on failed and healthy results ' +
    'whatever the reaction\'s call-on; frequency and once still apply, so keep frequency short (or use once) or a quick ' +
    'recovery\'s resolve can be held back. The summary is a template ({{monitor.name}}, {{status}}, {{message}}, ...). ' +
    'PagerDuty\'s 202 answer means done; anything else, a network error or the deadline makes it failed, and the reason ' +
    'is logged and returned as the message. The routing key is stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      routingKey: { type: 'string', description: 'Integration key of an Events API v2 integration (32 characters); stored encrypted.', minLength: 1, secret: true, boundTo: { origin: 'baseUrl' } },
      summary: { type: 'string', description: `Alert summary template (PagerDuty keeps 1024 characters), default "${DEFAULT_SUMMARY}".`, minLength: 1, template: true },
      severity: { type: 'string', description: 'Severity of the alert, default critical.', enum: ['critical', 'error', 'warning', 'info'], default: 'critical' },
      source: { type: 'string', description: 'The affected system as PagerDuty shows it, default "cloudroutes:<monitor name>".', minLength: 1 },
      baseUrl: { type: 'string', description: 'Events API address, default https://events.pagerduty.com (EU accounts: https://events.eu.pagerduty.com).', format: 'http-url' },
    },
    required: ['routingKey'],
    additionalProperties: false,
  },
};

/** Runs on failed results past the trigger and on every healthy result (react() decides whether there is something to resolve). */
export const shouldRun = failedOrHealthy;

/** The PagerDuty dedup key of a monitor: one alert per monitor. */
export function dedupKey(monitorId: string): string {
  return `cloudroutes-${monitorId}`;
}

/** The Events API v2 document for `event`, or null when a healthy result follows a healthy one (nothing to resolve). */
export function pagerDutyEvent(event: ReactionEvent): Record<string, unknown> | null {
  const data = event.reaction.data;
  const common = { routing_key: String(data.routingKey), dedup_key: dedupKey(event.monitor.id) };
  if (event.status === 'healthy') return isRecovery(event) ? { ...common, event_action: 'resolve' } : null;
  return {
    ...common,
    event_action: 'trigger',
    payload: {
      summary: render(typeof data.summary === 'string' ? data.summary : DEFAULT_SUMMARY, event).slice(0, 1024),
      source: typeof data.source === 'string' ? data.source : `cloudroutes:${event.monitor.name}`,
      severity: typeof data.severity === 'string' ? data.severity : 'critical',
      timestamp: new Date(event.checkedAt).toISOString(),
      component: event.monitor.ctype,
      custom_details: {
        monitor: event.monitor.name,
        monitorId: event.monitor.id,
        status: event.status,
        previousStatus: event.previousStatus,
        failcount: event.failcount,
        zone: event.zone,
        message: event.message,
      },
    },
    client: 'CloudRoutes',
  };
}

/** Triggers or resolves the monitor's alert; 'ran' on PagerDuty's 202, 'skipped' when there is nothing to resolve. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  const body = pagerDutyEvent(event);
  if (!body) return { outcome: 'skipped', message: 'no alert to resolve: the result before was healthy too' };
  const base = typeof event.reaction.data.baseUrl === 'string' ? event.reaction.data.baseUrl : 'https://events.pagerduty.com';
  return sendRequest(event, ctx, {
    url: joinUrl(base, '/v2/enqueue'),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ok: (status) => status === 202,
    fields: meta.fields,
  });
}

/** Reaction: points a Cloudflare DNS record at a standby address while the monitor fails, and back when it recovers. */
import type { ReactionContext, ReactionEvent, ReactionModule, ReactionReturn } from '../../src/core/types.js';
import { joinUrl, sendRequest } from '../_shared/http.js';
import { failedOrHealthy, isRecovery } from '../_shared/recovery.js';

const CF_ID = '^[0-9a-f]{32}$';

export const meta: ReactionModule['meta'] = {
  title: 'Cloudflare DNS failover',
  kind: 'fix',
  dryRun: true,
  description:
    'Through the Cloudflare API v4 (PATCH <baseUrl>/zones/{zoneId}/dns_records/{recordId} with {"content": ...}, a ' +
    'Bearer API token with DNS Write), sets the record\'s content to the standby address on a failed result once the fail ' +
    'count reaches the reaction\'s trigger, and back to the primary address on the first healthy result after a failed or ' +
    'unknown one. It runs on failed and healthy results whatever the reaction\'s call-on; frequency and once still apply, ' +
    'so keep frequency short (or use once) or a quick recovery can be held back. The run counts as done when Cloudflare ' +
    'answers 2xx with {"success": true}; anything else, a network error or the deadline makes it failed, and Cloudflare\'s ' +
    'errors are logged and returned as the message. The API token is stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      apiToken: { type: 'string', description: 'Cloudflare API token with Zone.DNS Edit on the zone; stored encrypted.', minLength: 1, secret: true, boundTo: { origin: 'baseUrl' } },
      zoneId: { type: 'string', description: 'Zone identifier (32 hex characters, on the zone\'s overview page).', pattern: CF_ID },
      recordId: { type: 'string', description: 'DNS record identifier (32 hex characters, from GET /zones/{zoneId}/dns_records).', pattern: CF_ID },
      primary: { type: 'string', description: 'The record\'s content while the monitor is healthy, e.g. 203.0.113.10.', minLength: 1 },
      standby: { type: 'string', description: 'The record\'s content while the monitor fails, e.g. 198.51.100.20.', minLength: 1 },
      baseUrl: { type: 'string', description: 'API address, default https://api.cloudflare.com/client/v4.', format: 'http-url' },
    },
    required: ['apiToken', 'zoneId', 'recordId', 'primary', 'standby'],
    additionalProperties: false,
  },
};

/** Runs on failed results past the trigger and on every healthy result (react() decides whether to switch back). */
export const shouldRun = failedOrHealthy;

/** Cloudflare's reason a 2xx answer is not a success, or undefined when it is {"success": true}. */
function cloudflareProblem(text: string): string | undefined {
  try {
    const answer = JSON.parse(text) as { success?: boolean; errors?: { code?: number; message?: string }[] };
    if (answer.success === true) return undefined;
    return `Cloudflare answered success: false (${(answer.errors ?? []).map((e) => `${e.code}: ${e.message}`).join('; ') || 'no errors given'})`;
  } catch {
    return 'the answer is not JSON';
  }
}

/** Sets the record to the standby address on failed, to the primary on recovery; 'skipped' on healthy after healthy. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  const data = event.reaction.data;
  if (event.status === 'healthy' && !isRecovery(event)) return { outcome: 'skipped', message: 'nothing to switch back: the result before was healthy too' };
  const content = String(event.status === 'failed' ? data.standby : data.primary);
  const base = typeof data.baseUrl === 'string' ? data.baseUrl : 'https://api.cloudflare.com/client/v4';
  const path = `/zones/${encodeURIComponent(String(data.zoneId))}/dns_records/${encodeURIComponent(String(data.recordId))}`;
  const outcome = await sendRequest(event, ctx, {
    url: joinUrl(base, path),
    method: 'PATCH',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${String(data.apiToken)}` },
    body: JSON.stringify({ content }),
    checkBody: cloudflareProblem,
    fields: meta.fields,
    dryRunUnknown: `what record ${String(data.recordId)} points at now (it is not read)`,
  });
  if (outcome === 'ran') ctx.logger.info({ monitorId: event.monitor.id, reactionId: event.reaction.id, content }, `cloudflare-dns-failover reaction "${event.reaction.name}": record ${String(data.recordId)} now points at ${content}`);
  return outcome;
}

/** Reaction: POSTs the event as JSON to a URL. */
import { request } from 'undici';
import type { PluginMeta, ReactionContext, ReactionEvent, ReactionOutcome } from '../../src/core/types.js';
import { headersField } from '../../plugin-support/fields.js';

export const meta: PluginMeta = {
  title: 'Webhook',
  description:
    'Sends the event to a URL as a JSON document (content-type application/json): { monitor: {id, name, ctype}, status, ' +
    'previousStatus, failcount, zone, checkedAt (ISO 8601), message, reaction: {id, name} }. The run counts as done when ' +
    'the answer is 2xx; any other status, a network error or the deadline makes it failed, and the reason is logged. ' +
    'Headers (for example an authorization token) are stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Address to send the event to, http:// or https://.', format: 'http-url' },
      method: { type: 'string', description: 'HTTP method, default POST.', enum: ['POST', 'PUT', 'PATCH'], default: 'POST' },
      headers: headersField,
    },
    required: ['url'],
    additionalProperties: false,
  },
};

/** The JSON document the webhook sends for `event`. */
export function payload(event: ReactionEvent): Record<string, unknown> {
  const { monitor, reaction } = event;
  return {
    monitor: { id: monitor.id, name: monitor.name, ctype: monitor.ctype },
    status: event.status,
    previousStatus: event.previousStatus,
    failcount: event.failcount,
    zone: event.zone,
    checkedAt: new Date(event.checkedAt).toISOString(),
    message: event.message,
    reaction: { id: reaction.id, name: reaction.name },
  };
}

/** Sends the event to data.url; 'ran' on a 2xx answer, 'failed' otherwise. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionOutcome> {
  const data = event.reaction.data;
  const url = String(data.url);
  const method = typeof data.method === 'string' ? data.method : 'POST';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries((data.headers as Record<string, string> | undefined) ?? {})) {
    if (name.toLowerCase() !== 'content-type') headers[name] = value;
  }
  const where = { monitorId: event.monitor.id, reactionId: event.reaction.id, url };
  try {
    const res = await request(url, { method: method as 'POST', headers, body: JSON.stringify(payload(event)), signal: ctx.signal });
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return 'ran';
    ctx.logger.warn({ ...where, httpStatus: res.statusCode }, `webhook reaction "${event.reaction.name}": ${url} answered HTTP ${res.statusCode}`);
    return 'failed';
  } catch (err) {
    const reason = ctx.signal.aborted ? 'the deadline passed before it answered' : `${(err as NodeJS.ErrnoException).code ?? (err as Error).name}: ${(err as Error).message}`;
    ctx.logger.warn({ ...where, err: (err as Error).message }, `webhook reaction "${event.reaction.name}": ${url} failed: ${reason}`);
    return 'failed';
  }
}

/** Reaction: POSTs the event as JSON to a URL. */
import type { ReactionContext, ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { headersField } from '../../plugin-support/fields.js';
import { sendRequest, type RequestReturn } from '../_shared/http.js';

export const meta: ReactionModule['meta'] = {
  title: 'Webhook',
  kind: 'notify',
  dryRun: true,
  description:
    'Sends the event to a URL as a JSON document (content-type application/json): { monitor: {id, name, ctype}, status, ' +
    'previousStatus, failcount, zone, checkedAt (ISO 8601), message, reaction: {id, name}, and for a reaction called on an ' +
    'escalation escalation: {reason, reaction: {id, name}, runs} }. The run counts as done when ' +
    'the answer is 2xx; any other status, a network error or the deadline makes it failed, and the reason is logged ' +
    'and returned as the message (without the header values). ' +
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
    ...(event.escalation ? { escalation: event.escalation } : {}),
  };
}

/** Sends the event to data.url; 'ran' on a 2xx answer, else 'failed' with the reason logged and as the message. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<RequestReturn> {
  const data = event.reaction.data;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries((data.headers as Record<string, string> | undefined) ?? {})) {
    if (name.toLowerCase() !== 'content-type') headers[name] = value;
  }
  return sendRequest(event, ctx, {
    url: String(data.url),
    method: typeof data.method === 'string' ? data.method : 'POST',
    headers,
    body: JSON.stringify(payload(event)),
    fields: meta.fields,
  });
}

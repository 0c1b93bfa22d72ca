/** Reaction: one HTTP request of any method, with headers and a body template filled from the event. */
import { render, renderJson } from '../../src/core/template.js';
import type { ReactionContext, ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { sendRequest, type RequestReturn } from '../_shared/http.js';
import { headersField } from '../../plugin-support/fields.js';

export const meta: ReactionModule['meta'] = {
  title: 'HTTP request',
  kind: 'notify',
  dryRun: true,
  description:
    'Sends one HTTP request (any method) to a URL, for example to restart a service through its admin API. The body is a ' +
    'template: {{monitor.name}}, {{status}}, {{message}} and the other event fields are filled in; when the content type is ' +
    'JSON each value is escaped for a JSON string, so "{\\"text\\": \\"{{message}}\\"}" stays valid JSON whatever the message ' +
    'holds. The run counts as done when the answer status is one of expectedStatus (default any 2xx); another status, a ' +
    'network error or the deadline makes it failed, and the reason is logged and returned as the message. Its kind is ' +
    'notify unless the reaction says fix (an admin API that restarts something). Headers are stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      url: { type: 'string', description: 'Address to call, http:// or https://.', format: 'http-url' },
      method: { type: 'string', description: 'HTTP method, default POST.', enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], default: 'POST' },
      headers: {
        ...headersField,
        description: 'Request headers, name to value (e.g. {"authorization": "Bearer ..."}); stored encrypted.',
      },
      body: { type: 'string', description: 'Body template; none when absent (GET and DELETE send none).', template: true },
      contentType: { type: 'string', description: 'Content type of the body, default application/json.', minLength: 1, format: 'http-header-value', default: 'application/json' },
      expectedStatus: {
        type: 'array',
        description: 'Answer statuses that mean done, e.g. [200, 204]; default any 2xx.',
        items: { type: 'integer', minimum: 100, maximum: 599 },
      },
    },
    required: ['url'],
    additionalProperties: false,
  },
};

/** Sends the request; 'ran' when the answer status is expected, 'failed' otherwise. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<RequestReturn> {
  const data = event.reaction.data;
  const method = typeof data.method === 'string' ? data.method : 'POST';
  const headers: Record<string, string> = { ...((data.headers as Record<string, string> | undefined) ?? {}) };
  let body: string | undefined;
  if (typeof data.body === 'string' && method !== 'GET' && method !== 'DELETE') {
    const contentType = typeof data.contentType === 'string' ? data.contentType : 'application/json';
    body = /\bjson\b/i.test(contentType) ? renderJson(data.body, event) : render(data.body, event);
    for (const name of Object.keys(headers)) if (name.toLowerCase() === 'content-type') delete headers[name];
    headers['content-type'] = contentType;
  }
  const expected = Array.isArray(data.expectedStatus) ? (data.expectedStatus as number[]) : undefined;
  return sendRequest(event, ctx, {
    url: String(data.url),
    method,
    headers,
    body,
    ok: expected ? (status) => expected.includes(status) : undefined,
    fields: meta.fields,
  });
}

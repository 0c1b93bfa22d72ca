import { render, type ReactionContext, type ReactionEvent, type ReactionModule, type ReactionReturn } from 'cloudroutes';

interface Data {
  server?: string;
  topic: string;
  token?: string;
  title?: string;
  message?: string;
}

export const meta: ReactionModule['meta'] = {
  title: 'ntfy push notification',
  kind: 'notify',
  description:
    'Publishes the event to an ntfy topic (ntfy.sh or your own ntfy server) as a push notification: priority 4 with ' +
    'a siren tag when the monitor failed, 3 with a check mark when it is healthy again. Ran when the server accepts ' +
    'the message (2xx), failed when it answers anything else (the status and the start of its answer are logged, and ' +
    'are the message of the run).',
  fields: {
    type: 'object',
    properties: {
      server: { type: 'string', pattern: '^https?://', description: 'ntfy server URL (default https://ntfy.sh)' },
      topic: { type: 'string', pattern: '^[\\w-]{1,64}$', description: 'Topic to publish to' },
      token: { type: 'string', secret: true, description: 'Access token of a protected topic, sent as a Bearer token (stored encrypted)' },
      title: { type: 'string', template: true, description: 'Notification title (default "{{monitor.name}} is {{status}}")' },
      message: { type: 'string', template: true, description: 'Notification text (default "{{message}}")' },
    },
    required: ['topic'],
    additionalProperties: false,
  },
};

export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<ReactionReturn> {
  const data = event.reaction.data as unknown as Data;
  const server = (data.server ?? 'https://ntfy.sh').replace(/\/+$/, '');
  const failed = event.status === 'failed';
  const body = {
    topic: data.topic,
    title: render(data.title ?? '{{monitor.name}} is {{status}}', event),
    message: render(data.message ?? '{{message}}', event),
    priority: failed ? 4 : 3,
    tags: [failed ? 'rotating_light' : 'white_check_mark'],
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (data.token) headers.authorization = `Bearer ${data.token}`;
  // fetch rejects when ctx.signal fires; the sink then records the run as failed, timed out.
  const res = await fetch(`${server}/`, { method: 'POST', headers, body: JSON.stringify(body), signal: ctx.signal });
  const answer = await res.text();
  if (!res.ok) {
    ctx.logger.warn({ server, topic: data.topic, status: res.status, answer: answer.slice(0, 200) }, 'ntfy refused the message');
    // The message is what the audit and `reaction show` print: name the server and what it said, never the token.
    return { outcome: 'failed', message: `${server} answered HTTP ${res.status}: ${answer.slice(0, 200)}` };
  }
  ctx.logger.info({ server, topic: data.topic }, 'ntfy accepted the message');
  return 'ran';
}

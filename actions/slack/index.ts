/** Reaction: posts a message to Slack through an incoming webhook. */
import { render } from '../../src/core/template.js';
import type { ReactionContext, ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { originOf, sendRequest, type RequestReturn } from '../_shared/http.js';

export const DEFAULT_TEXT = '{{monitor.name}} is {{status}} (was {{previousStatus}}, {{failcount}} failed checks, zone {{zone}}): {{message}}';

export const meta: ReactionModule['meta'] = {
  title: 'Slack message',
  kind: 'notify',
  dryRun: true,
  description:
    'Posts a message to a Slack incoming webhook as JSON {text, channel?, username?}. The text is a template: ' +
    '{{monitor.name}}, {{status}}, {{message}} and the other event fields are filled in (an unknown field is refused when the ' +
    'reaction is saved). A 2xx answer means done; any other status, a network error or the deadline makes it failed, ' +
    'and the reason is logged and returned as the message (with the webhook\'s address only, not its secret path). The ' +
    'webhook URL is stored encrypted.',
  fields: {
    type: 'object',
    properties: {
      webhookUrl: { type: 'string', description: 'The incoming webhook URL Slack gave (https://hooks.slack.com/services/...); stored encrypted.', format: 'http-url', secret: true },
      text: { type: 'string', description: `Message template, default "${DEFAULT_TEXT}".`, minLength: 1, template: true },
      channel: { type: 'string', description: 'Channel to post in instead of the webhook\'s own (older webhooks only), e.g. #ops.' },
      username: { type: 'string', description: 'Name shown as the sender instead of the webhook\'s own (older webhooks only).' },
    },
    required: ['webhookUrl'],
    additionalProperties: false,
  },
};

/** Posts the rendered message; 'ran' on a 2xx answer, 'failed' otherwise. */
export async function react(event: ReactionEvent, ctx: ReactionContext): Promise<RequestReturn> {
  const data = event.reaction.data;
  const message: Record<string, string> = { text: render(typeof data.text === 'string' ? data.text : DEFAULT_TEXT, event) };
  if (typeof data.channel === 'string') message.channel = data.channel;
  if (typeof data.username === 'string') message.username = data.username;
  return sendRequest(event, ctx, {
    url: String(data.webhookUrl),
    shownUrl: originOf(String(data.webhookUrl)),
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(message),
    fields: meta.fields,
  });
}

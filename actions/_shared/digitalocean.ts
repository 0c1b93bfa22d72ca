/** DigitalOcean API v2 droplet actions (POST /v2/droplets/{id}/actions), shared by digitalocean-reboot and digitalocean-power-cycle. */
import type { ReactionContext, ReactionEvent, ReactionModule } from '../../src/core/types.js';
import { joinUrl, sendRequest, type RequestReturn } from './http.js';

/** A reaction module that asks DigitalOcean for droplet action `type`; `what` says what the action does. */
export function dropletAction(type: 'reboot' | 'power_cycle', title: string, what: string): ReactionModule {
  const meta: ReactionModule['meta'] = {
    title,
    kind: 'fix',
    dryRun: true,
    description:
      `${what} through the DigitalOcean API v2 (POST <baseUrl>/v2/droplets/{dropletId}/actions with {"type": "${type}"}, ` +
      'a Bearer personal access token with droplet write scope). DigitalOcean starts the action and answers 201 with the ' +
      'action object; that counts as done (the action itself runs on). Another answer (401 bad token, 404 no such ' +
      'droplet, 422 droplet locked by another action), a network error or the deadline makes it failed, and the reason ' +
      'is logged and returned as the message. The token is stored encrypted.',
    fields: {
      type: 'object',
      properties: {
        apiToken: { type: 'string', description: 'DigitalOcean personal access token (dop_v1_...); stored encrypted.', minLength: 1, secret: true, boundTo: { origin: 'baseUrl' } },
        dropletId: { type: 'integer', description: 'Numeric droplet id (doctl compute droplet list).', minimum: 1 },
        baseUrl: { type: 'string', description: 'API address, default https://api.digitalocean.com.', format: 'http-url' },
      },
      required: ['apiToken', 'dropletId'],
      additionalProperties: false,
    },
  };

  async function react(event: ReactionEvent, ctx: ReactionContext): Promise<RequestReturn> {
    const data = event.reaction.data;
    const base = typeof data.baseUrl === 'string' ? data.baseUrl : 'https://api.digitalocean.com';
    return sendRequest(event, ctx, {
      url: joinUrl(base, `/v2/droplets/${Number(data.dropletId)}/actions`),
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${String(data.apiToken)}` },
      body: JSON.stringify({ type }),
      ok: (status) => status === 201,
      fields: meta.fields,
    });
  }

  return { meta, react };
}

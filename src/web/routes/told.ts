/**
 * Monitors that are told, not polled: heartbeat pings (GET|POST /ping/:token, /ping/:token/fail) and webhook calls
 * (POST /api/v1/webhook/:monitorId, and /datadog for Datadog's payload). Each route checks its own token.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Status } from '../../core/types.js';
import { datadogBodySchema, mapDatadog, type DatadogChoices, type DatadogPayload } from '../datadog.js';
import type { WebDeps } from '../deps.js';
import { Ingest } from '../ingest.js';
import { tokenMonitorId, type ToldMonitor } from '../told-monitors.js';

const MAX_MESSAGE = 1000;
const TOKEN_HEADER = 'x-cloudroutes-token';

/** The failure message a /fail ping carries: ?message=, or the body (text, or JSON with a message field). */
function failMessage(request: FastifyRequest): string {
  const q = (request.query as { message?: unknown }).message;
  let text = typeof q === 'string' ? q : typeof request.body === 'string' ? request.body : '';
  if (text.startsWith('{')) {
    try {
      const m = (JSON.parse(text) as { message?: unknown }).message;
      text = typeof m === 'string' ? m : text;
    } catch {
      // not JSON after all: keep the text
    }
  }
  return text.trim().slice(0, MAX_MESSAGE);
}

async function heartbeatRoutes(app: FastifyInstance, ingest: Ingest): Promise<void> {
  // Cron jobs post whatever they have (curl -d @log); any body is taken as text, none is needed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const how = 'call /ping/<token> with the token "cloudroutes monitor add" printed';
  const ping = (fail: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const { token } = request.params as { token: string };
    const monitor = await ingest.authenticate(request, tokenMonitorId(token), token, how);
    ingest.expectCtype(monitor, 'heartbeat');
    if (fail) {
      const text = failMessage(request);
      await ingest.tell(monitor, 'failed', `the job reported a failure${text ? `: ${text}` : ''}`);
    } else {
      await ingest.ping(monitor);
    }
    return reply.type('text/plain; charset=utf-8').send('OK\n');
  };
  const config = { access: 'token' as const };
  app.route({ method: ['GET', 'POST'], url: '/ping/:token', config, handler: ping(false) });
  app.route({ method: ['GET', 'POST'], url: '/ping/:token/fail', config, handler: ping(true) });
}

const webhookBody = {
  type: 'object',
  required: ['status'],
  properties: {
    status: { type: 'string', enum: ['healthy', 'failed'] },
    message: { type: 'string', maxLength: MAX_MESSAGE },
  },
} as const;

async function webhookRoutes(app: FastifyInstance, ingest: Ingest): Promise<void> {
  const verified = new WeakMap<FastifyRequest, ToldMonitor>();
  const how = `send the monitor's token in the ${TOKEN_HEADER} header or as ?token=`;
  // The token is checked before the body is read: a caller without it learns nothing, not even the schema.
  const onRequest = async (request: FastifyRequest) => {
    const { monitorId } = request.params as { monitorId: string };
    const header = request.headers[TOKEN_HEADER];
    const presented = (typeof header === 'string' ? header : undefined) ?? (request.query as { token?: string }).token;
    verified.set(request, await ingest.authenticate(request, monitorId, presented, how));
  };
  const accepted = (reply: FastifyReply, monitor: ToldMonitor, status: Status) => reply.code(202).send({ accepted: true, monitorId: monitor.id, status });
  const config = { access: 'token' as const };
  const params = { type: 'object', properties: { monitorId: { type: 'string' } } };
  const querystring = { type: 'object', properties: { token: { type: 'string', description: `The monitor's token, when not sent in the ${TOKEN_HEADER} header.` } } };
  const response = {
    202: { type: 'object', description: 'Recorded, and sent to the sink as a result', properties: { accepted: { type: 'boolean' }, monitorId: { type: 'string' }, status: { type: 'string' } } },
  };
  const schema = { params, querystring, response };

  app.post('/api/v1/webhook/:monitorId', { config, onRequest, schema: { ...schema, body: webhookBody } }, async (request, reply) => {
    const monitor = verified.get(request)!;
    ingest.expectCtype(monitor, 'webhook');
    const { status, message } = request.body as { status: Status; message?: string };
    await ingest.tell(monitor, status, message ?? '');
    return accepted(reply, monitor, status);
  });

  app.post('/api/v1/webhook/:monitorId/datadog', { config, onRequest, schema: { ...schema, body: datadogBodySchema } }, async (request, reply) => {
    const monitor = verified.get(request)!;
    ingest.expectCtype(monitor, 'datadog-webhook');
    const { status, message } = mapDatadog(request.body as DatadogPayload, monitor.options as DatadogChoices);
    await ingest.tell(monitor, status, message);
    return accepted(reply, monitor, status);
  });
}

/** Registers the heartbeat and webhook routes, each group with its own body parsing. */
export async function toldRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const ingest = new Ingest(app, deps);
  await app.register(async (scope) => heartbeatRoutes(scope, ingest));
  await app.register(async (scope) => webhookRoutes(scope, ingest));
}

/** The dashboard: server-rendered pages that refresh their live part, their assets, and logging in and out with an API key. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, httpStatus } from '../../core/errors.js';
import { ApiKeyCache, hashKey } from '../api-keys.js';
import type { WebDeps } from '../deps.js';
import { toHttp } from '../errors.js';
import type { Html } from '../dashboard/html.js';
import { ASSETS, errorPage, loginPage, page, type Shell } from '../dashboard/layout.js';
import { monitorPage } from '../dashboard/monitor-page.js';
import { overview, overviewQuery, searchForm } from '../dashboard/overview.js';
import { reactionsPage } from '../dashboard/reactions-page.js';
import { clearedCookie, countFailure, isFragment, pageGuard, plainHttp, safeNext, sameOrigin, sessionCookie } from '../dashboard/session.js';

const HTML = 'text/html; charset=utf-8';
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/** The login form's fields, or why the body is not one (a JSON array, number or string; a key that is not text). */
function loginBody(body: unknown): { key?: string; next?: string } | string {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) return 'The login was not a form: send the fields key and next.';
  const { key, next } = body as Record<string, unknown>;
  if (key !== undefined && typeof key !== 'string') return 'The key must be text: paste the API key into the form.';
  return { key, next: typeof next === 'string' ? next : undefined };
}

export async function dashboardRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const pageRoute = { config: { access: 'public' as const }, onRequest: pageGuard(app, new ApiKeyCache(deps.store)) };
  const open = { config: { access: 'public' as const } };

  // Forms post urlencoded; parsed here only, for the routes of this group.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 8192 },
    (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttp(err);
    if (status >= 500) deps.logger.error({ err: (err as Error).message, url: request.url }, 'dashboard request failed');
    if (isFragment(request)) return reply.code(status).type('text/plain; charset=utf-8').send(body.error.message);
    return reply.code(status).type(HTML).send(errorPage(status, body.error.message));
  });

  const render = (request: FastifyRequest, reply: FastifyReply, shell: Omit<Shell, 'key'>, live: Html) =>
    reply.type(HTML).send(isFragment(request) ? live.text : page({ ...shell, key: request.apiKey! }, live));

  app.get<{ Querystring: { page?: string; status?: string; q?: string } }>('/', pageRoute, async (request, reply) => {
    const query = overviewQuery(request.query);
    return render(request, reply, { title: 'Monitors', section: 'monitors', search: searchForm(query) }, await overview(deps, Date.now(), query));
  });

  app.get<{ Params: { id: string } }>('/monitors/:id', pageRoute, async (request, reply) => {
    const found = await monitorPage(deps, request.params.id, Date.now(), request.apiKey!.readOnly);
    if (!found) throw errors.noSuchMonitor(request.params.id);
    return render(request, reply, { title: found.title, section: 'monitors' }, found.live);
  });

  app.get('/reactions', pageRoute, async (request, reply) => render(request, reply, { title: 'Reactions', section: 'reactions' }, await reactionsPage(deps, Date.now(), request.apiKey!.readOnly)));

  app.get<{ Querystring: { next?: string; expired?: string } }>('/login', open, async (request, reply) =>
    reply.type(HTML).send(loginPage({
      next: safeNext(request.query.next), plainHttp: plainHttp(request),
      message: request.query.expired === '1' ? 'Your session’s API key is no longer valid; log in with another.' : undefined,
    })));

  app.post<{ Body: unknown }>('/login', open, async (request, reply) => {
    const body = loginBody(request.body);
    const next = safeNext(typeof body === 'string' ? undefined : body.next);
    const form = (status: number, message: string) => reply.code(status).type(HTML).send(loginPage({ message, next, plainHttp: plainHttp(request) }));
    if (typeof body === 'string') return form(400, body);
    if (!sameOrigin(request)) return form(403, 'This login came from a page of another site and was refused; log in here.');
    const wait = app.throttle.retryAfter(request.ip);
    if (wait > 0) return form(429, `Too many failed logins from ${request.ip}; try again in ${Math.ceil(wait / 1000)} s.`);
    const presented = (body.key ?? '').trim();
    let key;
    try {
      key = presented ? await (await deps.store()).apiKeyByHash(hashKey(presented)) : undefined;
    } catch (err) {
      return form(503, `The key cannot be checked now: ${(err as Error).message}`);
    }
    if (!key) {
      const refused = countFailure(app, request, 'the API key is not valid');
      return form(httpStatus(refused), refused.code === 'CR_THROTTLED' ? `Too many failed logins: ${refused.message}.` : 'That API key is not valid.');
    }
    deps.logger.info({ keyId: key.id, source: request.ip }, 'dashboard login');
    return reply.header('set-cookie', sessionCookie(presented)).redirect(next, 303);
  });

  app.post('/logout', open, async (request, reply) => {
    if (!sameOrigin(request)) return reply.code(403).type(HTML).send(errorPage(403, 'This logout came from a page of another site and was refused.'));
    return reply.header('set-cookie', clearedCookie()).redirect('/login', 303);
  });

  app.get<{ Params: { name: string }; Querystring: { v?: string } }>('/assets/:name', open, async (request, reply) => {
    const asset = ASSETS.get(request.params.name);
    if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send(`no asset ${request.params.name}`);
    // A versioned URL never changes its content; an unversioned one is checked again each time.
    reply.header('cache-control', request.query.v === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache');
    return reply.type(asset.type).send(asset.body);
  });

  // Browsers ask for it on their own; answered here so the request is not a failed authentication.
  const icon = ASSETS.get('favicon.svg')!;
  app.get('/favicon.ico', open, async (_request, reply) => reply.header('cache-control', 'public, max-age=86400').type(icon.type).send(icon.body));
}

/** Who may do what: every route says its access; API keys by bearer header or the dashboard's cookie; failures throttled. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKey } from '../store/store.js';
import { ApiKeyCache } from './api-keys.js';
import type { WebDeps } from './deps.js';
import { errors } from '../core/errors.js';
import { AuthThrottle } from './throttle.js';

/** public: anyone; token: the route checks its own token (and reports failures through `throttle`); read / write: an API key. */
export type Access = 'public' | 'token' | 'read' | 'write';

export const SESSION_COOKIE = 'cr_session';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
  interface FastifyInstance {
    throttle: AuthThrottle;
    /** Counts a failed authentication from the request's source and throws 401 (or 429 when it starts a cool-down). */
    authFailed(request: FastifyRequest, reason: string): never;
  }
}

/** The access a route needs: its own `access`, else read for GET and HEAD and write for the rest. */
export function routeAccess(method: string, access: Access | undefined): Access {
  return access ?? (method === 'GET' || method === 'HEAD' ? 'read' : 'write');
}

/** The session cookie's value, decoded; one that does not decode is kept as sent, so it matches no key (401, not 500). */
export function sessionCookieValue(request: FastifyRequest): string | undefined {
  const c = request.headers.cookie?.split(/;\s*/).find((part) => part.startsWith(`${SESSION_COOKIE}=`));
  const v = c?.slice(SESSION_COOKIE.length + 1);
  if (!v) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

/**
 * Whether the browser says the request comes from a page of this site: its Origin is this scheme, Host and port
 * or CLOUDROUTES_WEB_URL's origin, or, without an Origin, Sec-Fetch-Site is same-origin. `noOrigin` is
 * the answer for a request that sends neither (a client that is not a browser). The scheme is the socket's
 * (TLS or not), or X-Forwarded-Proto when CLOUDROUTES_TRUST_PROXY=1: a page of http://host is another
 * site than https://host, and anyone on the path can write the plain one.
 */
export function fromThisSite(request: FastifyRequest, noOrigin: boolean): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return request.headers['sec-fetch-site'] === 'same-origin' || (noOrigin && request.headers['sec-fetch-site'] === undefined);
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.host === request.host && url.protocol === `${request.protocol}:`) return true;
  try {
    return Boolean(process.env.CLOUDROUTES_WEB_URL) && new URL(process.env.CLOUDROUTES_WEB_URL!).origin === url.origin;
  } catch {
    return false;
  }
}

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

function presentedKey(request: FastifyRequest): { key: string; cookie: boolean } | undefined {
  const header = request.headers.authorization;
  if (header?.startsWith('Bearer ')) return { key: header.slice(7).trim(), cookie: false };
  const key = sessionCookieValue(request);
  return key ? { key, cookie: true } : undefined;
}

/** Installs the access check on every route (default: read for GET and HEAD, write for the rest). */
export function installAuth(app: FastifyInstance, deps: WebDeps): void {
  const throttle = new AuthThrottle(10, 60_000, deps.authCooldownMs ?? 300_000);
  const keys = new ApiKeyCache(deps.store);
  app.decorate('throttle', throttle);
  app.decorate('authFailed', function authFailed(request: FastifyRequest, reason: string): never {
    if (throttle.fail(request.ip)) {
      deps.logger.warn({ source: request.ip, cooldownMs: throttle.cooldownMs }, 'too many failed authentications; source refused for a cool-down');
      throw errors.throttled(request.ip, throttle.cooldownMs);
    }
    throw errors.unauthorized(reason);
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const access = routeAccess(request.method, request.routeOptions.config.access);
    if (access === 'public') return;
    const wait = throttle.retryAfter(request.ip);
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000));
      throw errors.throttled(request.ip, wait);
    }
    if (access === 'token') return;
    const presented = presentedKey(request);
    if (!presented) app.authFailed(request, 'an API key is needed: send "Authorization: Bearer <key>" (create one with "cloudroutes apikey create")');
    // A browser sends the cookie with a form or script of any site: a change it authorizes must come from a page of this one.
    if (presented.cookie && !READS.has(request.method) && !fromThisSite(request, false)) throw errors.crossOrigin(request.method, request.url.split('?')[0]!);
    const key = await keys.find(presented.key);
    if (!key) app.authFailed(request, 'the API key is not valid');
    if (access === 'write' && key.readOnly) throw errors.readOnly(key.name);
    request.apiKey = key;
  });
}

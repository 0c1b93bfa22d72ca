/** The dashboard's session: the API key in an HttpOnly, Secure, SameSite=Strict cookie, checked on every page request. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyCache } from '../api-keys.js';
import { fromThisSite, SESSION_COOKIE, sessionCookieValue } from '../auth.js';
import { CloudRoutesError, errors } from '../../core/errors.js';

const WEEK_S = 7 * 86_400;
const FLAGS = 'HttpOnly; Secure; SameSite=Strict; Path=/';

/** The Set-Cookie value that logs a browser in with `key`. */
export function sessionCookie(key: string): string {
  return `${SESSION_COOKIE}=${encodeURIComponent(key)}; ${FLAGS}; Max-Age=${WEEK_S}`;
}

/** The Set-Cookie value that logs a browser out. */
export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; ${FLAGS}; Max-Age=0`;
}

/** A path on this site to return to after logging in; anything else (another site, `//host`) becomes "/". */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])[^\r\n]*$/.test(next) ? next : '/';
}

/** Whether the refresh script asked for the live part only. */
export function isFragment(request: FastifyRequest): boolean {
  return (request.query as { fragment?: string } | undefined)?.fragment === '1';
}

/** A browser will not keep a Secure cookie over plain HTTP, except from localhost. */
export function plainHttp(request: FastifyRequest): boolean {
  return request.protocol === 'http' && !/^(localhost|127\.\d+\.\d+\.\d+|\[::1\]|::1|.+\.localhost)$/.test(request.hostname);
}

/** A form post from a page of another site (its Origin differs) is refused: no logging a browser in or out from elsewhere. */
export function sameOrigin(request: FastifyRequest): boolean {
  return fromThisSite(request, true);
}

/** Counts a failed authentication (throttling) and returns the 401 or 429 it would throw. */
export function countFailure(app: FastifyInstance, request: FastifyRequest, reason: string): CloudRoutesError {
  try {
    app.authFailed(request, reason);
  } catch (err) {
    if (err instanceof CloudRoutesError) return err;
    throw err;
  }
}

/** The path with `?fragment=1` removed, to come back to after logging in. */
function pagePath(request: FastifyRequest): string {
  const url = new URL(request.url, 'http://x');
  url.searchParams.delete('fragment');
  return url.pathname + url.search;
}

/**
 * onRequest hook of the pages: a valid session cookie sets request.apiKey; without one a page redirects to /login
 * (the refresh script's fragment request gets 401 and sends the browser there). A cookie with a key that is not valid
 * counts as a failed authentication; a throttled source gets 429.
 */
export function pageGuard(app: FastifyInstance, keys: ApiKeyCache) {
  return async function guard(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const fragment = isFragment(request);
    const wait = app.throttle.retryAfter(request.ip);
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000));
      throw errors.throttled(request.ip, wait);
    }
    const presented = sessionCookieValue(request);
    let expired = false;
    if (presented) {
      const key = await keys.find(presented);
      if (key) {
        request.apiKey = key;
        return undefined;
      }
      reply.header('set-cookie', clearedCookie());
      const refused = countFailure(app, request, 'the session key is not valid');
      if (refused.code === 'CR_THROTTLED') throw refused;
      expired = true;
    }
    // An early reply from an async hook is returned, so the route's handler does not run.
    if (fragment) return reply.code(401).type('text/plain; charset=utf-8').send('log in again: /login');
    const query = new URLSearchParams({ next: pagePath(request), ...(expired ? { expired: '1' } : {}) });
    return reply.redirect(`/login?${query}`, 303);
  };
}

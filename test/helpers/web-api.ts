/** For an API test file: a real Redis and the web process, started before its tests and stopped after; and request helpers. */
import type { Test } from 'uvu';
import { RedisServer } from './redis-server.js';
import { startWebFixture, type WebFixture } from './web.js';

export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

/** The web fixture of the suite (usable inside its tests), and the Redis it runs on. */
export type WebSuite = Omit<WebFixture, 'stop'> & { redis: RedisServer };

/** Registers before/after hooks on `suite` that start and stop Redis and the web process. */
export function useWebApi(suite: Test): WebSuite {
  const redis = new RedisServer();
  let fx: WebFixture;
  suite.before(async () => {
    await redis.start();
    fx = await startWebFixture(redis.url);
  });
  suite.after(async () => {
    await fx.stop();
    await redis.stop();
  });
  return {
    redis,
    get web() { return fx.web; },
    get store() { return fx.store; },
    get key() { return fx.key; },
    get readKey() { return fx.readKey; },
    call: (path, init) => fx.call(path, init),
  };
}

/** fetch() options sending `body` as JSON. */
export function json(body: unknown): RequestInit {
  return { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

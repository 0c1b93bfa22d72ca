/** Starts the web process: its Redis (told monitors' results go to the results stream there), the store (opened lazily), and the server. */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Settings } from '../core/config.js';
import { resolveSecretKey } from '../core/crypto.js';
import { encode } from '../core/messages.js';
import { zoneMetricsOptions } from '../core/metrics-zone.js';
import { checkLoader, reactionLoader } from '../core/plugins.js';
import { connectRedis } from '../core/redis.js';
import { keys } from '../core/keys.js';
import { ResultOutbox } from '../core/result-outbox.js';
import { settleWithin } from '../core/time.js';
import { LazyStore } from '../store/lazy-store.js';
import type { WebDeps } from './deps.js';
import { buildWebServer } from './server.js';

export interface WebOptions {
  settings: Settings;
  logger: Logger;
  host: string;
  /** 0 picks a free port. */
  port: number;
  metricsNeedKey?: boolean;
  authCooldownMs?: number;
}

export interface Web {
  app: FastifyInstance;
  deps: WebDeps;
  /** http://host:port */
  url: string;
  stop(): Promise<void>;
}

export async function startWeb(opts: WebOptions): Promise<Web> {
  const { settings, logger } = opts;
  // Read before anything connects, so a bad setting stops the process at once.
  const zoneMetrics = zoneMetricsOptions();
  const redis = connectRedis(settings.redisUrl, logger);
  const store = new LazyStore(settings.store, { busyTimeoutMs: 200, logger });
  const results = new ResultOutbox(redis, keys(settings.zone).results, 50_000, logger, settings.backlogMax);
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  const deps: WebDeps = {
    settings, logger, redis, store: () => store.get(),
    checks: checkLoader(settings.checksPath), actions: reactionLoader(settings.actionsPath),
    secretKey: resolveSecretKey(settings.secretKey, settings.dataDir),
    pushResult: (msg) => results.push(encode(msg)),
    metrics, zoneMetrics, metricsNeedKey: opts.metricsNeedKey, authCooldownMs: opts.authCooldownMs,
  };
  const app = await buildWebServer(deps);
  const address = await app.listen({ host: opts.host, port: opts.port });
  logger.info({ url: address }, 'web listening');
  return {
    app, deps, url: address,
    async stop() {
      await app.close();
      await settleWithin(results.drained(), 2000);
      results.close();
      redis.disconnect();
      await store.close();
    },
  };
}

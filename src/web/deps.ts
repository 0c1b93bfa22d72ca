/** What the web process's routes are given. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ZoneMetricsOptions } from '../core/metrics-zone.js';
import type { Registry } from 'prom-client';
import type { Settings } from '../core/config.js';
import type { ResultMessage } from '../core/messages.js';
import type { PluginLoader } from '../core/plugins.js';
import type { CheckModule, ReactionModule } from '../core/types.js';
import { ConfigService } from '../manage/config-service.js';
import type { Store } from '../store/store.js';

export interface WebDeps {
  settings: Settings;
  logger: Logger;
  redis: Redis;
  /** The store of record; rejects while it is unreachable (the routes that need it answer 503). */
  store: () => Promise<Store>;
  checks: PluginLoader<CheckModule>;
  actions: PluginLoader<ReactionModule>;
  secretKey: Buffer | undefined;
  /** Adds a result to the zone's results stream, as a worker does; false when its outbox is full. */
  pushResult: (msg: ResultMessage) => boolean;
  /** Prometheus registry the routes add their metrics to. */
  metrics: Registry;
  /** Whether /metrics names monitors and how many get their own series (default: from the environment). */
  zoneMetrics?: ZoneMetricsOptions;
  /** /metrics needs an API key (default: open, as Prometheus scrapers expect). */
  metricsNeedKey?: boolean;
  /** Cool-down after 10 failed authentications in a minute from one source (ms). */
  authCooldownMs?: number;
}

/** A validated-write service over the store, as the CLI uses. */
export async function configService(deps: WebDeps): Promise<ConfigService> {
  return new ConfigService(await deps.store(), deps.checks, deps.actions, deps.secretKey);
}

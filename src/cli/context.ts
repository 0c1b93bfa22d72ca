/** What a CLI command needs, opened on first use and closed once at the end. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { loadSettings, type Settings } from '../core/config.js';
import { resolveSecretKey } from '../core/crypto.js';
import { createLogger } from '../core/logger.js';
import { checkLoader, reactionLoader, type PluginLoader } from '../core/plugins.js';
import { connectRedis, describeRedisError, redactRedisUrl } from '../core/redis.js';
import type { CheckModule, ReactionModule } from '../core/types.js';
import { ConfigService } from '../manage/config-service.js';
import { openStore } from '../store/open.js';
import type { Store } from '../store/store.js';
import { errors } from '../core/errors.js';

export class CliContext {
  readonly settings: Settings;
  private storeP: Promise<Store> | undefined;
  private redisC: Redis | undefined;
  private loggerL: Logger | undefined;
  private checksL: PluginLoader<CheckModule> | undefined;
  private actionsL: PluginLoader<ReactionModule> | undefined;

  constructor() {
    this.settings = loadSettings();
  }

  get logger(): Logger {
    return (this.loggerL ??= createLogger('cli'));
  }

  get secretKey(): Buffer | undefined {
    return resolveSecretKey(this.settings.secretKey, this.settings.dataDir);
  }

  get checks(): PluginLoader<CheckModule> {
    return (this.checksL ??= checkLoader(this.settings.checksPath));
  }

  get actions(): PluginLoader<ReactionModule> {
    return (this.actionsL ??= reactionLoader(this.settings.actionsPath));
  }

  store(): Promise<Store> {
    return (this.storeP ??= openStore(this.settings.store));
  }

  /** A Redis client that fails fast (a CLI must not hang when Redis is down). */
  async redis(): Promise<Redis> {
    if (!this.redisC) {
      this.redisC = connectRedis(this.settings.redisUrl, this.logger, { lazy: true, maxRetriesPerRequest: 1, failFast: true });
      this.redisC.options.retryStrategy = (times) => (times > 2 ? null : 200);
      // ioredis rejects with "Connection is closed."; the reason (a refused password, an untrusted certificate) came as an error event.
      let reason: Error | undefined;
      this.redisC.on('error', (err: Error) => (reason = err));
      try {
        await this.redisC.connect();
      } catch (err) {
        throw errors.redisUnreachable(redactRedisUrl(this.settings.redisUrl), describeRedisError(reason ?? (err as Error)));
      }
    }
    return this.redisC;
  }

  async config(): Promise<ConfigService> {
    return new ConfigService(await this.store(), this.checks, this.actions, this.secretKey);
  }

  async close(): Promise<void> {
    this.redisC?.disconnect();
    if (this.storeP) await (await this.storeP.catch(() => undefined))?.close();
  }
}

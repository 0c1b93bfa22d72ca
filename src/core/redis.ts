/** Redis connections with logged retry and the Lua scripts of src/core/lua registered as commands. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Redis, type Result } from 'ioredis';
import type { Logger } from 'pino';

const LUA_DIR = fileURLToPath(new URL('../../../src/core/lua', import.meta.url));

declare module 'ioredis' {
  interface RedisCommander<Context> {
    schedulePop(schedule: string, intervals: string, now: number, limit: number): Result<(string | number)[], Context>;
    recordResult(
      state: string, history: string, events: string, monitor: string, views: string,
      monitorId: string, zone: string, status: string, message: string, latencyMs: string, checkedAt: number, due: number, cacheOnly: string,
    ): Result<[string, string, number, number, number, number, string, number] | null, Context>;
    seedState(state: string, status: string, failcount: number, checkedAt: number): Result<number, Context>;
    claimReaction(rstate: string, now: number, frequencyMs: number, once: string, episode: number): Result<number, Context>;
    applyMonitor(
      monitor: string, intervals: string, monitors: string, schedule: string,
      monitorId: string, json: string, intervalMs: number, now: number, offsetMs: number,
    ): Result<number, Context>;
    removeMonitor(monitor: string, state: string, intervals: string, schedule: string, monitors: string, views: string, monitorId: string): Result<number, Context>;
  }
}

/** Registers every `<name>-<numberOfKeys>.lua` file as a command `name` (run by EVALSHA). */
export function defineScripts(redis: Redis): void {
  for (const file of readdirSync(LUA_DIR)) {
    const m = /^(\w+)-(\d+)\.lua$/.exec(file);
    if (!m) continue;
    redis.defineCommand(m[1]!, { numberOfKeys: Number(m[2]), lua: readFileSync(join(LUA_DIR, file), 'utf8') });
  }
}

/**
 * Connects to Redis, retrying with backoff for as long as it takes; logs once when the
 * connection is lost and once when it is back, not at every attempt.
 */
export function connectRedis(url: string, logger: Logger, opts: { lazy?: boolean; maxRetriesPerRequest?: number | null } = {}): Redis {
  const redis = new Redis(url, {
    lazyConnect: opts.lazy ?? false,
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  });
  defineScripts(redis);
  logConnectionState(redis, logger, { redis: url });
  return redis;
}

/** Logs once when the connection is lost and once when it is back, not at every retry. */
export function logConnectionState(redis: Redis, logger: Logger, fields: Record<string, unknown>): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.error({ ...fields, err: err.message }, 'Redis unreachable; retrying with backoff (check REDIS_URL and that redis-server runs)');
  });
  redis.on('ready', () => {
    if (down) logger.info(fields, 'Redis reachable again');
    down = false;
  });
}

/** Parses a flat [field, value, ...] stream entry into an object. */
export function fieldsToObject(fields: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i]!] = fields[i + 1]!;
  return out;
}

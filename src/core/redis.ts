/** Redis connections with logged retry and the Lua scripts of src/core/lua registered as commands. */
import { readdirSync, readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Redis, type RedisOptions, type Result } from 'ioredis';
import type { Logger } from 'pino';
import { errors } from './errors.js';
import { isSentinelUrl, parseSentinelUrl, redactSentinelUrl, sentinelOptions } from './redis-sentinel.js';

const LUA_DIR = fileURLToPath(new URL('../../../src/core/lua', import.meta.url));

declare module 'ioredis' {
  interface RedisCommander<Context> {
    schedulePop(schedule: string, intervals: string, now: number | '', limit: number, configPrefix?: string, aheadMs?: number): Result<(string | number | null)[], Context>;
    /** recordResults-7.lua: seven keys, then the arguments; see src/core/record-results.ts. */
    recordResults(...keysThenArgs: (string | number)[]): Result<string[], Context>;
    /** ackAndTrim-1.lua: acknowledges `ids` for `group` and removes the entries every group is done with. */
    ackAndTrim(stream: string, group: string, ...ids: string[]): Result<number, Context>;
    writeOffSlot(state: string, counters: string, writtenOff: string, writtenOffWhy: string, monitorId: string, due: number | string, counter: string): Result<number, Context>;
    seedState(state: string, status: string, failcount: number, checkedAt: number): Result<number, Context>;
    /** claimReaction-3.lua: ['run', now, target budget] when the run is claimed, [reason] when not. */
    claimReaction(
      rstate: string, targetRuns: string, targets: string, now: number | '', frequencyMs: number, once: string, episode: number,
      maxRuns: number | '', perMs: number, target: string, targetDefault: string, member: string,
    ): Result<[string, number?, string?], Context>;
    startVerification(verification: string, intervals: string, schedule: string, monitorId: string, json: string, ttlMs: number, everyMs: number, now: number | ''): Result<number, Context>;
    endVerification(verification: string, intervals: string, monitorId: string, token: string, intervalMs: number): Result<number, Context>;
    applyMonitor(
      monitor: string, intervals: string, monitors: string, schedule: string, state: string,
      monitorId: string, json: string, intervalMs: number, now: number | '', offsetMs: number,
    ): Result<number, Context>;
    heartbeat(processes: string, seen: string, id: string, json: string, pruneAfterMs: number, first: string, goneAfterBeats: number): Result<number, Context>;
    rememberHostKey(knownHosts: string, hostPort: string, fingerprint: string, spelled: string): Result<[string, number], Context>;
    removeMonitor(monitor: string, state: string, intervals: string, schedule: string, monitors: string, views: string, monitorId: string): Result<number, Context>;
  }
}

/** A script's text with each line `-- include <file>.lua` replaced by that file of src/core/lua/include (code scripts share). */
function withIncludes(lua: string): string {
  return lua.replace(/^-- include (\w+\.lua)$/gm, (_, file: string) => readFileSync(join(LUA_DIR, 'include', file), 'utf8'));
}

/** Registers every `<name>-<numberOfKeys>.lua` file as a command `name` (run by EVALSHA); `<name>-n.lua` takes the number of keys as its first argument. */
export function defineScripts(redis: Redis): void {
  for (const file of readdirSync(LUA_DIR)) {
    const m = /^(\w+)-(\d+|n)\.lua$/.exec(file);
    if (!m) continue;
    const lua = withIncludes(readFileSync(join(LUA_DIR, file), 'utf8'));
    redis.defineCommand(m[1]!, m[2] === 'n' ? { lua } : { numberOfKeys: Number(m[2]), lua });
  }
}

/**
 * A client for `url`: redis://, rediss:// or redis+sentinel:// (the master that Sentinel names, followed
 * across failovers). `failFast` gives up when no sentinel answers instead of retrying (the CLI).
 */
export function createRedis(url: string, options: RedisOptions = {}, failFast = false): Redis {
  const { tls } = redisTlsOptions(url);
  if (isSentinelUrl(url)) return new Redis({ ...sentinelOptions(parseSentinelUrl(url), tls, failFast), ...options });
  return new Redis(url, { ...(tls ? { tls } : {}), ...options });
}

/**
 * Connects to Redis, retrying with backoff for as long as it takes; logs once when the
 * connection is lost and once when it is back, not at every attempt.
 */
export function connectRedis(url: string, logger: Logger, opts: { lazy?: boolean; maxRetriesPerRequest?: number | null; failFast?: boolean; logState?: boolean } = {}): Redis {
  const redis = createRedis(url, {
    lazyConnect: opts.lazy ?? false,
    maxRetriesPerRequest: opts.maxRetriesPerRequest === undefined ? null : opts.maxRetriesPerRequest,
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  }, opts.failFast);
  defineScripts(redis);
  // A second connection of a process (its heartbeat's) leaves saying so to its first.
  if (opts.logState === false) redis.on('error', () => undefined);
  else logConnectionState(redis, logger, { redis: redactRedisUrl(url) });
  return redis;
}

/**
 * TLS options for a `rediss://` URL: the CA (CLOUDROUTES_REDIS_CA_FILE) that signed a private server
 * certificate, and a client certificate and key (CLOUDROUTES_REDIS_CERT_FILE, CLOUDROUTES_REDIS_KEY_FILE)
 * for a server that asks for one. Without a CA file Node's own CA list is used.
 */
export function redisTlsOptions(url: string, env: NodeJS.ProcessEnv = process.env): Pick<RedisOptions, 'tls'> {
  if (!/^rediss(\+sentinel)?:/i.test(url)) return {};
  const file = (name: string) => {
    const path = env[name];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw errors.badSetting(name, path, `cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); name a PEM file this process can read`);
    }
  };
  const tls: ConnectionOptions = {};
  const ca = file('CLOUDROUTES_REDIS_CA_FILE');
  const cert = file('CLOUDROUTES_REDIS_CERT_FILE');
  const key = file('CLOUDROUTES_REDIS_KEY_FILE');
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return { tls };
}

/** The URL with its password replaced by ***, for logs and messages. */
export function redactRedisUrl(url: string): string {
  if (isSentinelUrl(url)) return redactSentinelUrl(url);
  // Parsed as ioredis parses it (WHATWG URL, userinfo up to the last @), so what is hidden is what it sends.
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Unparseable: hide all that could be userinfo, up to the last @.
    const at = url.lastIndexOf('@');
    if (at < 0) return url;
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(url)?.[0] ?? '';
    return `${scheme}***${url.slice(at)}`;
  }
  if (!parsed.password) return url;
  parsed.password = '***';
  return parsed.href;
}

const UNTRUSTED_CERT = /self[- ]signed|unable to (get|verify)|certificate/i;

/** What went wrong talking to Redis, with what to do for the usual causes (password, TLS certificate). */
export function describeRedisError(err: Error): string {
  const m = err.message;
  if (/NOAUTH|WRONGPASS|invalid password|invalid username-password/i.test(m)) {
    return `${m}: give REDIS_URL the password (redis://:password@host:6379, or redis://user:password@host:6379 with an ACL user)`;
  }
  if (UNTRUSTED_CERT.test(m) && (err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') {
    return `${m}: the Redis server's TLS certificate is not trusted; set CLOUDROUTES_REDIS_CA_FILE to the PEM file of the CA that signed it`;
  }
  return m;
}

/** Logs once when the connection is lost and once when it is back, not at every retry. */
export function logConnectionState(redis: Redis, logger: Logger, fields: Record<string, unknown>): void {
  let down = false;
  redis.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.error({ ...fields, err: describeRedisError(err) }, 'Redis unreachable; retrying with backoff (check REDIS_URL and that redis-server runs)');
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

/**
 * Redis behind Sentinel: `redis+sentinel://[user:password@]host1:26379,host2:26379/<master>[/<db>]`
 * (`rediss+sentinel://` for TLS to the master, its replicas and the sentinels), or the settings
 * CLOUDROUTES_REDIS_SENTINELS and CLOUDROUTES_REDIS_MASTER. ioredis asks the sentinels for the
 * master, and on a failover asks again and reconnects to the promoted replica.
 */
import type { RedisOptions } from 'ioredis';
import { errors } from './errors.js';

export interface SentinelTarget {
  tls: boolean;
  username?: string;
  password?: string;
  sentinels: { host: string; port: number }[];
  master: string;
  db: number;
  /** Sentinels that ask for a password of their own (`?sentinelPassword=`, or CLOUDROUTES_REDIS_SENTINEL_PASSWORD). */
  sentinelPassword?: string;
}

const SCHEME = /^(rediss?)\+sentinel:\/\//i;
const DEFAULT_SENTINEL_PORT = 26379;

export function isSentinelUrl(url: string): boolean {
  return SCHEME.test(url);
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function hostPort(item: string, url: string): { host: string; port: number } {
  // [v6]:port, host:port or host alone.
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(item);
  const port = m?.[3] === undefined ? DEFAULT_SENTINEL_PORT : Number(m[3]);
  if (!m || port < 1 || port > 65535) throw errors.badSetting('REDIS_URL', redactSentinelUrl(url), `a list of sentinels host:port[,host:port...]; "${item}" is not one`);
  return { host: (m[1] ?? m[2])!, port };
}

/** The parts of a `redis+sentinel://` URL; throws a CR_BAD_SETTING naming what is wrong. */
export function parseSentinelUrl(url: string): SentinelTarget {
  const scheme = SCHEME.exec(url);
  if (!scheme) throw errors.badSetting('REDIS_URL', url, 'redis+sentinel://host:26379[,host:26379...]/<master name>');
  let rest = url.slice(scheme[0].length);
  const q = rest.indexOf('?');
  const query = new URLSearchParams(q < 0 ? '' : rest.slice(q + 1));
  if (q >= 0) rest = rest.slice(0, q);
  // Userinfo runs up to the last @ (as ioredis reads redis:// URLs), so a password may hold @, : or /.
  const at = rest.lastIndexOf('@');
  const userinfo = at < 0 ? undefined : rest.slice(0, at);
  const hostsAndPath = at < 0 ? rest : rest.slice(at + 1);
  const slash = hostsAndPath.indexOf('/');
  const hosts = slash < 0 ? hostsAndPath : hostsAndPath.slice(0, slash);
  const path = slash < 0 ? [] : hostsAndPath.slice(slash + 1).split('/').filter(Boolean);
  const shown = redactSentinelUrl(url);
  if (!hosts) throw errors.badSetting('REDIS_URL', shown, 'at least one sentinel host:port after redis+sentinel://');
  if (path.length === 0) throw errors.badSetting('REDIS_URL', shown, 'the master name Sentinel knows, as the path: redis+sentinel://host:26379/<master name>');
  if (path.length > 2 || (path[1] !== undefined && !/^\d{1,2}$/.test(path[1]))) {
    throw errors.badSetting('REDIS_URL', shown, 'the path /<master name> or /<master name>/<db number>');
  }
  const target: SentinelTarget = {
    tls: scheme[1]!.toLowerCase() === 'rediss',
    sentinels: hosts.split(',').filter(Boolean).map((h) => hostPort(h, url)),
    master: decode(path[0]!),
    db: path[1] === undefined ? 0 : Number(path[1]),
  };
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (user) target.username = decode(user);
    if (colon >= 0) target.password = decode(userinfo.slice(colon + 1));
  }
  const sentinelPassword = query.get('sentinelPassword');
  if (sentinelPassword) target.sentinelPassword = sentinelPassword;
  return target;
}

/**
 * The Redis URL the settings give: REDIS_URL, or, when CLOUDROUTES_REDIS_SENTINELS is set, a
 * `redis+sentinel://` URL made of it, CLOUDROUTES_REDIS_MASTER and REDIS_URL's password and db.
 */
export function sentinelUrlFromSettings(env: NodeJS.ProcessEnv): string | undefined {
  const sentinels = env.CLOUDROUTES_REDIS_SENTINELS?.trim();
  if (!sentinels) return undefined;
  const master = env.CLOUDROUTES_REDIS_MASTER?.trim();
  if (!master) throw errors.badSetting('CLOUDROUTES_REDIS_MASTER', '', 'the master name Sentinel knows (the name in `sentinel monitor <name> ...`), set with CLOUDROUTES_REDIS_SENTINELS');
  let auth = '';
  let db = '';
  let scheme = 'redis';
  if (env.REDIS_URL) {
    try {
      const u = new URL(env.REDIS_URL);
      if (u.username || u.password) auth = `${u.username}${u.password ? `:${u.password}` : ''}@`;
      if (/^\/\d+$/.test(u.pathname)) db = u.pathname;
      if (u.protocol === 'rediss:') scheme = 'rediss';
    } catch {
      throw errors.badSetting('REDIS_URL', '(unparseable)', 'with CLOUDROUTES_REDIS_SENTINELS, REDIS_URL only gives the password and db: redis://:password@/0');
    }
  }
  const query = env.CLOUDROUTES_REDIS_SENTINEL_PASSWORD ? `?sentinelPassword=${encodeURIComponent(env.CLOUDROUTES_REDIS_SENTINEL_PASSWORD)}` : '';
  const url = `${scheme}+sentinel://${auth}${sentinels}/${encodeURIComponent(master)}${db}${query}`;
  parseSentinelUrl(url);
  return url;
}

/** ioredis options for a sentinel target; TLS options (a private CA) apply to the sentinels too. */
export function sentinelOptions(target: SentinelTarget, tls: RedisOptions['tls'], failFast: boolean): RedisOptions {
  return {
    sentinels: target.sentinels,
    name: target.master,
    role: 'master',
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.sentinelPassword === undefined ? {} : { sentinelPassword: target.sentinelPassword }),
    ...(target.tls ? { tls: tls ?? {}, enableTLSForSentinelMode: true } : {}),
    // Subscribes to the sentinels' +switch-master, so a failover is followed at once, not at the next failed command.
    failoverDetector: true,
    sentinelRetryStrategy: failFast ? () => null : (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  };
}

/** The URL with the master's and the sentinels' passwords replaced by ***. */
export function redactSentinelUrl(url: string): string {
  const q = url.indexOf('?');
  const base = q < 0 ? url : url.slice(0, q);
  const query = q < 0 ? '' : url.slice(q).replace(/(sentinelPassword=)[^&]*/gi, '$1***');
  const scheme = SCHEME.exec(base)?.[0] ?? '';
  const at = base.lastIndexOf('@');
  if (at < 0) return base + query;
  const userinfo = base.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  return `${scheme}${user}${colon < 0 ? '' : ':***'}${base.slice(at)}${query}`;
}

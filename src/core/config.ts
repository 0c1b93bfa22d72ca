/** Settings from the environment (flags override them in the CLI), with the same names everywhere. */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errors } from './errors.js';
import { PLAIN_NAME } from './limits.js';
import { sentinelUrlFromSettings } from './redis-sentinel.js';

export interface BrokerPorts {
  /** control -> broker (jobs in) */
  jobsIn: number;
  /** broker -> workers */
  workers: number;
}

export interface Settings {
  redisUrl: string;
  store: string;
  zone: string;
  /** The zone's brokers (CLOUDROUTES_BROKER, `host1,host2[:portbase]`): controls and workers connect to each. */
  brokers: BrokerAddress[];
  ports: BrokerPorts;
  secretKey: string | undefined;
  checksPath: string[];
  actionsPath: string[];
  dataDir: string;
  /** Most results the history stream keeps waiting for the store of record (CLOUDROUTES_BACKLOG_MAX); 0: no limit. */
  backlogMax: number;
}

/** CLOUDROUTES_BACKLOG_MAX's default: about 1 GB of Redis memory (see the README). */
export const DEFAULT_BACKLOG_MAX = 5_000_000;

/** One broker: its host and its ports. */
export interface BrokerAddress {
  host: string;
  ports: BrokerPorts;
}

/** Where `cloudroutes dev` records the Redis it started, so a CLI in another terminal finds it. */
export function devStatePath(dataDir: string): string {
  return resolve(dataDir, 'dev.json');
}

function devRedisUrl(dataDir: string): string | undefined {
  try {
    const state = JSON.parse(readFileSync(devStatePath(dataDir), 'utf8')) as { redisUrl?: string; pid?: number };
    if (state.pid && state.redisUrl) {
      process.kill(state.pid, 0);
      return state.redisUrl;
    }
  } catch {
    // no dev cluster running here
  }
  return undefined;
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw errors.badSetting(name, value, 'expected a port number');
  return n;
}

function backlogMax(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_BACKLOG_MAX;
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isSafeInteger(n) || n < 0) throw errors.badSetting('CLOUDROUTES_BACKLOG_MAX', value, 'expected a whole number of results kept waiting in the history stream (0: no limit)');
  return n;
}

/** CLOUDROUTES_BROKER: a comma-separated list of `host` or `host:portbase` (`[v6]:portbase`), each a broker of the zone. */
function brokerList(value: string | undefined, base: number): BrokerAddress[] {
  const items = (value || '127.0.0.1').split(',').map((v) => v.trim()).filter(Boolean);
  const seen = new Set<string>();
  return items.map((item) => {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(item);
    if (!m) throw errors.badSetting('CLOUDROUTES_BROKER', value!, `a list of host or host:portbase, e.g. broker1,broker2:6555; "${item}" is not one`);
    const host = m[1] ?? m[2]!;
    const portBase = int('CLOUDROUTES_BROKER', m[3], base);
    if (portBase > 65534) throw errors.badSetting('CLOUDROUTES_BROKER', value!, `port base ${portBase} leaves no room for its second port`);
    const key = `${host}:${portBase}`;
    if (seen.has(key)) throw errors.badSetting('CLOUDROUTES_BROKER', value!, `${key} is listed twice`);
    seen.add(key);
    return { host: m[1] ? `[${host}]` : host, ports: { jobsIn: portBase, workers: portBase + 1 } };
  });
}

/** Reads settings from `env` (default process.env). */
export function loadSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const dataDir = resolve(env.CLOUDROUTES_DATA_DIR || 'data');
  const zone = env.CLOUDROUTES_ZONE || 'default';
  if (!PLAIN_NAME.test(zone)) throw errors.badSetting('CLOUDROUTES_ZONE', zone, 'use lowercase letters, digits and dashes');
  const base = int('CLOUDROUTES_BROKER_PORT_BASE', env.CLOUDROUTES_BROKER_PORT_BASE, 5555);
  const store = env.CLOUDROUTES_STORE || `sqlite:${resolve(dataDir, 'cloudroutes.db')}`;
  if (!/^(sqlite:|rethinkdb:\/\/)/.test(store)) {
    throw errors.badSetting('CLOUDROUTES_STORE', store, 'expected sqlite:<path> or rethinkdb://host:28015/<db>');
  }
  const split = (v: string | undefined) => (v ? v.split(':').filter(Boolean).map((p) => resolve(p)) : []);
  return {
    redisUrl: sentinelUrlFromSettings(env) || env.REDIS_URL || devRedisUrl(dataDir) || 'redis://127.0.0.1:6379',
    store,
    zone,
    brokers: brokerList(env.CLOUDROUTES_BROKER, base),
    ports: { jobsIn: base, workers: base + 1 },
    secretKey: env.CLOUDROUTES_SECRET_KEY || undefined,
    checksPath: split(env.CLOUDROUTES_CHECKS_PATH),
    actionsPath: split(env.CLOUDROUTES_ACTIONS_PATH),
    dataDir,
    backlogMax: backlogMax(env.CLOUDROUTES_BACKLOG_MAX),
  };
}

/** tcp://host:port for a broker socket. */
export function endpoint(host: string, port: number): string {
  return `tcp://${host}:${port}`;
}

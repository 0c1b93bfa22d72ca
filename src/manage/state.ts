/** Reads monitors' live state from the zone's Redis. */
import type { Redis } from 'ioredis';
import { readBacklog } from '../core/backlog.js';
import { keys } from '../core/keys.js';
import type { Monitor, MonitorState, Status } from '../core/types.js';

const num = (v: string | undefined) => (v === undefined || v === '' ? null : Number(v));

/** State of each monitor id; a monitor not yet checked is `unknown` with no last check. */
export async function readStates(redis: Redis, zone: string, ids: string[]): Promise<Map<string, MonitorState>> {
  const k = keys(zone);
  const p = redis.pipeline();
  for (const id of ids) p.hgetall(k.state(id));
  const replies = (await p.exec()) ?? [];
  const out = new Map<string, MonitorState>();
  ids.forEach((id, i) => {
    const [err, h] = replies[i] ?? [null, {}];
    const s = (err ? {} : h) as Record<string, string>;
    out.set(id, {
      status: (s.status as Status) || 'unknown',
      failcount: Number(s.failcount ?? 0),
      lastCheck: num(s.lastCheck),
      latencyMs: num(s.latencyMs),
      lastChange: num(s.lastChange),
      message: s.message ?? '',
    });
  });
  return out;
}

/** A monitor's line in `cloudroutes status --json` and GET /api/v1/status. */
export interface StatusRow {
  id: string;
  name: string;
  ctype: string;
  status: Status;
  failcount: number;
  /** ISO 8601, or null before the first check. */
  lastCheck: string | null;
  latencyMs: number | null;
}

/** One row per monitor with its live state. */
export async function statusRows(redis: Redis, zone: string, monitors: Monitor[]): Promise<StatusRow[]> {
  const states = await readStates(redis, zone, monitors.map((m) => m.id));
  return monitors.map((m) => {
    const s = states.get(m.id)!;
    return { id: m.id, name: m.name, ctype: m.ctype, status: s.status, failcount: s.failcount, lastCheck: s.lastCheck ? new Date(s.lastCheck).toISOString() : null, latencyMs: s.latencyMs };
  });
}

export interface ZoneViewState {
  status: Status;
  failcount: number;
  lastCheck: number | null;
}

/** Each zone's own latest result of a monitor: this zone's from its state, others' as the bridge last copied them. */
export async function readZoneViews(redis: Redis, zone: string, id: string): Promise<Record<string, ZoneViewState>> {
  const k = keys(zone);
  const [own, others] = await Promise.all([redis.hgetall(k.state(id)), redis.hgetall(k.views(id))]);
  const out: Record<string, ZoneViewState> = {};
  for (const [z, v] of Object.entries(others)) {
    const [status, at, failcount] = v.split('|');
    out[z] = { status: status as Status, failcount: Number(failcount ?? 0), lastCheck: num(at) };
  }
  if (own.lastCheck) {
    out[zone] = { status: (own.zoneStatus ?? own.status) as Status, failcount: Number(own.zoneFailcount ?? own.failcount ?? 0), lastCheck: num(own.lastCheck) };
  }
  return out;
}

/** The monitors the zone's Redis holds (what the monitoring path runs), for when the store cannot answer. */
export async function monitorsInRedis(redis: Redis, zone: string): Promise<Monitor[]> {
  const k = keys(zone);
  const ids = await redis.smembers(k.monitors);
  if (ids.length === 0) return [];
  const configs = await redis.mget(ids.map((id) => k.monitor(id)));
  return configs.filter((c): c is string => c !== null).map((c) => JSON.parse(c) as Monitor).sort((a, b) => a.name.localeCompare(b.name));
}

/** A note for people when the bridge cannot write to the store, or undefined. */
export async function storeOutageNote(redis: Redis, zone: string): Promise<string | undefined> {
  const k = keys(zone);
  const json = await redis.get(k.storeHealth);
  const health = json ? (JSON.parse(json) as { up: boolean; since: number; error?: string }) : undefined;
  if (!health || health.up) return undefined;
  const { history, events } = await readBacklog(redis, zone, 0);
  const waiting = history.waiting + events.waiting;
  return `the store of record has been unreachable since ${new Date(health.since).toISOString()} (${health.error ?? 'unknown error'}); ` +
    `${waiting} results and events are kept in Redis (cache only) and reach the store when it is back`;
}

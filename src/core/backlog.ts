/**
 * The zone's backlog: stream entries waiting in Redis for the store of record, how full they are against
 * CLOUDROUTES_BACKLOG_MAX, the dead letters, and what the bridge last said of the store. Read by `cloudroutes stats`,
 * /metrics and /health.
 */
import type { Redis } from 'ioredis';
import { formatDuration } from './duration.js';
import { historyWaiting } from './history-entry.js';
import { keys } from './keys.js';

/** What the bridge publishes in Redis (keys.storeHealth) about writing to the store of record. */
export interface StoreHealthState {
  up: boolean;
  /** Epoch ms the store went down (or came back). */
  since: number;
  error?: string;
}

export function parseStoreHealth(json: string | null | undefined): StoreHealthState | undefined {
  if (!json) return undefined;
  try {
    const v = JSON.parse(json) as StoreHealthState;
    return typeof v.up === 'boolean' && Number.isFinite(v.since) ? v : undefined;
  } catch {
    return undefined;
  }
}

export interface StreamBacklog {
  /** Records waiting to be stored: results (history entries hold up to 16) or events. */
  waiting: number;
  /** waiting / cap (0 without a cap). */
  fill: number;
  /** Records the store refused or could not read, set aside. */
  deadLetters: number;
}

export interface Backlog {
  /** CLOUDROUTES_BACKLOG_MAX; 0: no limit. */
  cap: number;
  history: StreamBacklog;
  events: StreamBacklog;
  store?: StoreHealthState;
}

/** The fill levels warned about. */
export const FILL_WARNINGS = [0.5, 0.9] as const;

/** Reads the backlog of `zone` in one round trip. */
export async function readBacklog(redis: Redis, zone: string, cap: number): Promise<Backlog> {
  const k = keys(zone);
  const replies = (await redis.pipeline().xlen(k.history).xlen(k.events).xlen(k.deadLetters('history')).xlen(k.deadLetters('events'))
    .get(k.storeHealth).xrange(k.history, '-', '+', 'COUNT', 1).xrevrange(k.history, '+', '-', 'COUNT', 1).exec()) ?? [];
  for (const [err] of replies) if (err) throw err;
  const [entries, events, deadHistory, deadEvents] = replies.slice(0, 4).map(([, n]) => Number(n));
  const [[first], [last]] = replies.slice(5, 7).map(([, r]) => r as [string, string[]][]);
  const history = historyWaiting(entries!, first?.[1], last?.[1]);
  const stream = (waiting: number, deadLetters: number): StreamBacklog => ({ waiting, fill: cap > 0 ? waiting / cap : 0, deadLetters });
  const store = parseStoreHealth(replies[4]![1] as string | null);
  return { cap, history: stream(history, deadHistory!), events: stream(events!, deadEvents!), ...(store ? { store } : {}) };
}

const n = (v: number) => v.toLocaleString('en-US');

/** A sentence per stream filled to 50% or 90% of the cap, saying what happens next and what to do. */
export function backlogWarnings(b: Backlog): string[] {
  const out: string[] = [];
  for (const name of ['history', 'events'] as const) {
    const s = b[name];
    if (b.cap <= 0 || s.fill < FILL_WARNINGS[0]) continue;
    const level = s.fill >= FILL_WARNINGS[1] ? 'almost full' : 'filling';
    const what = `the ${name} backlog is ${level}: ${n(s.waiting)} ${name === 'history' ? 'results' : 'events'} wait for the store of record, ${Math.floor(s.fill * 100)}% of CLOUDROUTES_BACKLOG_MAX (${n(b.cap)})`;
    const next = name === 'history'
      ? 'past it the oldest results are trimmed and never reach the store'
      : 'events are never trimmed, so Redis memory grows with them';
    out.push(`${what}; ${next}: bring the store of record back (the bridge's log says why it cannot write) or raise CLOUDROUTES_BACKLOG_MAX`);
  }
  return out;
}

/** "store of record down for 4m17s, 17,348 results waiting" while the bridge cannot write to the store; else undefined. */
export function storeDownMessage(b: Backlog, now = Date.now()): string | undefined {
  if (!b.store || b.store.up) return undefined;
  const events = b.events.waiting ? ` and ${n(b.events.waiting)} events` : '';
  const why = b.store.error ? ` (${b.store.error})` : '';
  return `store of record down for ${formatDuration(Math.max(0, Math.round((now - b.store.since) / 1000)))}, ${n(b.history.waiting)} results${events} waiting${why}`;
}

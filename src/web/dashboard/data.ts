/** What the pages read: configuration from the store (or this zone's Redis when the store is down), live state from Redis,
 * and recent results and events from the store merged with those still waiting in this zone's Redis streams. */
import type { Redis } from 'ioredis';
import { BadEntry, toEvent, toHistory } from '../../bridge/entries.js';
import { keys } from '../../core/keys.js';
import { entryRecords } from '../../core/history-entry.js';
import type { EventRecord, HistoryRecord } from '../../core/types.js';
import type { Store } from '../../store/store.js';
import type { WebDeps } from '../deps.js';
import { addSlot, slotsOf, type Point, type Slot } from './sparkline.js';

export const HOUR = 3_600_000;
/** Results per monitor read for a last-hour chart: a whole hour of a 5 s monitor; faster ones show their latest part. */
export const CHART_LIMIT = 720;
/** Stream entries read from Redis per page: those the bridge has not stored yet (normally well under a second's worth). */
const PENDING_LIMIT = 2000;

/** The store, or why it cannot answer now. */
export async function tryStore(deps: WebDeps): Promise<{ store?: Store; problem?: string }> {
  try {
    return { store: await deps.store() };
  } catch (err) {
    return { problem: (err as Error).message };
  }
}

async function pending<T>(redis: Redis, stream: string, zone: string, parse: (zone: string, id: string, f: Record<string, string>) => T): Promise<T[]> {
  const entries = await redis.xrevrange(stream, '+', '-', 'COUNT', PENDING_LIMIT);
  const out: T[] = [];
  for (const [entryId, fields] of entries) {
    for (const { id, fields: f } of entryRecords(entryId, fields)) {
      try {
        out.push(parse(zone, id, f));
      } catch (err) {
        // The bridge reports malformed entries; a page just leaves them out.
        if (!(err instanceof BadEntry)) throw err;
      }
    }
  }
  return out;
}

/** Results still in this zone's history stream (not yet in the store), newest first. */
export function pendingHistory(redis: Redis, zone: string): Promise<HistoryRecord[]> {
  return pending(redis, keys(zone).history, zone, toHistory);
}

/** Status changes and reaction runs still in this zone's event stream, newest first. */
export function pendingEvents(redis: Redis, zone: string): Promise<EventRecord[]> {
  return pending(redis, keys(zone).events, zone, toEvent);
}

/** `stored` and `waiting` as one list without the records both hold, newest first, at most `limit`. */
export function mergeNewest<T extends { id: string }>(stored: T[], waiting: T[], time: (r: T) => number, limit: number): T[] {
  const seen = new Set(stored.map((r) => r.id));
  return [...stored, ...waiting.filter((r) => !seen.has(r.id))].sort((a, b) => time(b) - time(a)).slice(0, limit);
}

/** A monitor's results since `from`, stored and waiting, newest first; the stored part is left out when the store fails. */
export async function recentHistory(store: Store | undefined, waiting: HistoryRecord[], monitorId: string, from: number, limit: number): Promise<HistoryRecord[]> {
  const stored = store ? await store.history({ monitorId, from, limit }).catch(() => []) : [];
  return mergeNewest(stored, waiting.filter((h) => h.monitorId === monitorId && h.checkedAt >= from), (h) => h.checkedAt, limit);
}

/** A monitor's chart: the span it covers and the zone whose results it shows. */
export interface ChartSpan {
  monitorId: string;
  zone: string;
  from: number;
  to: number;
}

/**
 * Each span's results summed into `slots` time slots, stored and waiting: ONE store query for every span, which
 * leaves out the waiting records so none counts twice; the stored part is left out when the store fails.
 */
export async function chartSlots(store: Store | undefined, waiting: HistoryRecord[], spans: ChartSpan[], slots: number): Promise<Map<string, Slot[]>> {
  const byMonitor = new Map(spans.map((s) => [s.monitorId, { span: s, points: [] as Point[], ids: [] as string[] }]));
  for (const h of waiting) {
    const mine = byMonitor.get(h.monitorId);
    if (!mine || h.zone !== mine.span.zone || h.checkedAt < mine.span.from || h.checkedAt > mine.span.to) continue;
    mine.points.push({ at: h.checkedAt, latencyMs: h.latencyMs, status: h.status });
    mine.ids.push(h.id);
  }
  const out = new Map([...byMonitor].map(([id, m]) => [id, slotsOf(m.points, { ...m.span, slots })]));
  if (!store || spans.length === 0) return out;
  const exclude = [...byMonitor.values()].flatMap((m) => m.ids);
  const stored = await store.historyBuckets({ spans, buckets: slots, exclude }).catch(() => []);
  for (const b of stored) {
    const slot = out.get(b.monitorId)?.[b.bucket];
    if (slot) addSlot(slot, b);
  }
  return out;
}

/** Recent events, optionally of one monitor, stored and waiting, newest first. */
export async function recentEvents(store: Store | undefined, waiting: EventRecord[], limit: number, monitorId?: string): Promise<EventRecord[]> {
  const stored = store ? await store.events({ monitorId, limit }).catch(() => []) : [];
  return mergeNewest(stored, waiting.filter((e) => monitorId === undefined || e.monitorId === monitorId), (e) => e.at, limit);
}

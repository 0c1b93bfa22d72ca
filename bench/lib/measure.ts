/** What the bench reads back from Redis: counters, the schedule lag histogram and the history stream. */
import type { Redis } from 'ioredis';
import { Histogram } from '../../src/core/histogram.js';
import { keys, lagKey, startLagKey } from '../../src/core/keys.js';
import { readLagHash } from '../../src/core/lag-recorder.js';
import type { Store } from '../../src/store/store.js';
import { entryRecords } from '../../src/core/history-entry.js';

/** The zone's counters hash as numbers (summed over processes). */
export async function readCounters(redis: Redis, zone: string): Promise<Record<string, number>> {
  const raw = await redis.hgetall(keys(zone).counters);
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
}

/** The schedule lag histogram that the controls fill. */
export function readLag(redis: Redis, zone: string): Promise<Histogram> {
  return readLagHash(redis, lagKey(zone));
}

/** The start lag histogram that the workers fill. */
export function readStartLag(redis: Redis, zone: string): Promise<Histogram> {
  return readLagHash(redis, startLagKey(zone));
}

/** Exact percentiles of a list of numbers. */
export class Samples {
  private values: number[] = [];
  private sorted = true;

  add(v: number): void {
    this.values.push(v);
    this.sorted = false;
  }

  get count(): number {
    return this.values.length;
  }

  quantile(q: number): number {
    if (!this.values.length) return 0;
    if (!this.sorted) {
      this.values.sort((a, b) => a - b);
      this.sorted = true;
    }
    return this.values[Math.min(this.values.length - 1, Math.max(0, Math.ceil(q * this.values.length) - 1))]!;
  }

  max(): number {
    return this.quantile(1);
  }
}

export interface HistoryStats {
  /** Results recorded by a sink in [from, to) (the stream entry id is the record time). */
  recorded: number;
  statuses: Record<string, number>;
  /** First few messages of results that were not healthy, with how often each came. */
  problems: Map<string, number>;
  /** Record time minus due time, ms. */
  dueToSink: Samples;
  /** Worker's checkedAt minus due time, ms. */
  dueToChecked: Samples;
  /** `<monitorId>:<due>` of every result recorded up to the moment of reading, window or not. */
  answered: Set<string>;
  /** Results recorded in [from, to) by monitor id. */
  perMonitor: Map<string, number>;
}

interface HistoryEntry {
  monitorId: string;
  due: number;
  status: string;
  message: string;
  checkedAt: number;
}

/**
 * Measures the results recorded in [from, to), wherever they are: still in the zone's history stream, or
 * already drained by the bridge into the store of record. A result seen in both (drained, not yet deleted) counts once.
 */
export class HistoryReader {
  readonly stats: HistoryStats = {
    recorded: 0, statuses: {}, problems: new Map(), dueToSink: new Samples(), dueToChecked: new Samples(), answered: new Set(), perMonitor: new Map(),
  };
  private readonly seen = new Set<string>();

  constructor(private readonly from: number, private readonly to: number) {}

  /** `entryId` is the record's id in the history stream (`<record ms>-<seq>`, and `:<index>` for a result of a packed entry). */
  add(entryId: string, e: HistoryEntry): void {
    if (this.seen.has(entryId)) return;
    this.seen.add(entryId);
    const stats = this.stats;
    stats.answered.add(`${e.monitorId}:${e.due}`);
    const recordedAt = Number(entryId.slice(0, entryId.indexOf('-')));
    if (recordedAt < this.from || recordedAt >= this.to) return;
    stats.recorded++;
    stats.perMonitor.set(e.monitorId, (stats.perMonitor.get(e.monitorId) ?? 0) + 1);
    stats.statuses[e.status] = (stats.statuses[e.status] ?? 0) + 1;
    if (e.status !== 'healthy' && (stats.problems.has(e.message) || stats.problems.size < 5)) {
      stats.problems.set(e.message, (stats.problems.get(e.message) ?? 0) + 1);
    }
    stats.dueToSink.add(recordedAt - e.due);
    stats.dueToChecked.add(e.checkedAt - e.due);
  }

  /** Reads the whole history stream, in pages. */
  async fromStream(redis: Redis, zone: string): Promise<void> {
    const stream = keys(zone).history;
    let start = '-';
    for (;;) {
      const page = await redis.xrange(stream, start, '+', 'COUNT', 20_000);
      for (const [entryId, fields] of page) {
        for (const { id, fields: f } of entryRecords(entryId, fields)) {
          this.add(id, { monitorId: f.monitorId ?? '', due: Number(f.due), status: f.status ?? '?', message: f.message ?? '', checkedAt: Number(f.checkedAt) });
        }
      }
      if (page.length < 20_000) break;
      start = `(${page[page.length - 1]![0]}`;
    }
  }

  /** Reads the records the bridge wrote to the store (their id is `<zone>:<stream record id>`). */
  async fromStore(store: Store, zone: string, monitorIds: string[]): Promise<void> {
    const prefix = `${zone}:`;
    for (let i = 0; i < monitorIds.length; i += 64) {
      const pages = await Promise.all(monitorIds.slice(i, i + 64).map((monitorId) => store.history({ monitorId, from: this.from - 3_600_000, limit: 100_000 })));
      for (const r of pages.flat()) if (r.id.startsWith(prefix)) this.add(r.id.slice(prefix.length), r);
    }
  }
}

/** How many of the slots k with due0 + k * interval in [from, to) exist (k >= 0). */
export function slotsIn(due0: number, intervalMs: number, from: number, to: number): number {
  const first = Math.max(0, Math.ceil((from - due0) / intervalMs));
  const end = Math.max(0, Math.ceil((to - due0) / intervalMs));
  return Math.max(0, end - first);
}

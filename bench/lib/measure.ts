/** What the bench reads back from Redis: counters, the schedule lag histogram and the history stream. */
import type { Redis } from 'ioredis';
import { Histogram } from '../../src/core/histogram.js';
import { keys, lagKey, startLagKey } from '../../src/core/keys.js';
import { readLagHash } from '../../src/core/lag-recorder.js';

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
}

/** Reads the whole history stream (in pages) and measures the entries recorded in [from, to). */
export async function readHistory(redis: Redis, zone: string, from: number, to: number): Promise<HistoryStats> {
  const stats: HistoryStats = {
    recorded: 0, statuses: {}, problems: new Map(), dueToSink: new Samples(), dueToChecked: new Samples(), answered: new Set(),
  };
  const stream = keys(zone).history;
  let start = '-';
  for (;;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', 20_000);
    for (const [id, fields] of page) {
      const f: Record<string, string> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
      stats.answered.add(`${f.monitorId}:${f.due}`);
      const recordedAt = Number(id.slice(0, id.indexOf('-')));
      if (recordedAt < from || recordedAt >= to) continue;
      stats.recorded++;
      const due = Number(f.due);
      const status = f.status ?? '?';
      stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
      const message = f.message ?? '';
      if (status !== 'healthy' && (stats.problems.has(message) || stats.problems.size < 5)) {
        stats.problems.set(message, (stats.problems.get(message) ?? 0) + 1);
      }
      stats.dueToSink.add(recordedAt - due);
      stats.dueToChecked.add(Number(f.checkedAt) - due);
    }
    if (page.length < 20_000) break;
    start = `(${page[page.length - 1]![0]}`;
  }
  return stats;
}

/** How many of the slots k with due0 + k * interval in [from, to) exist (k >= 0). */
export function slotsIn(due0: number, intervalMs: number, from: number, to: number): number {
  const first = Math.max(0, Math.ceil((from - due0) / intervalMs));
  const end = Math.max(0, Math.ceil((to - due0) / intervalMs));
  return Math.max(0, end - first);
}

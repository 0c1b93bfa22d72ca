/** Zones' latest results through the store: this zone's go up with each history batch, other zones' come down for the quorum. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Counters } from '../core/counters.js';
import { keys, type Keys } from '../core/keys.js';
import type { HistoryRecord } from '../core/types.js';
import type { Store, ZoneView } from '../store/store.js';
import { toHistory } from './entries.js';
import { Backoff, FailureLog, sleep } from './support.js';

/** A history entry with this zone's consecutive fail count, which the view carries. */
export interface HistoryItem {
  record: HistoryRecord;
  failcount: number;
}

/** Parses a history stream entry (see recordResults-7.lua). */
export function toHistoryItem(zone: string, entryId: string, f: Record<string, string>): HistoryItem {
  return { record: toHistory(zone, entryId, f), failcount: Number(f.failcount) || 0 };
}

/** The newest result of each monitor in a batch, as zone views. */
export function latestViews(items: HistoryItem[]): ZoneView[] {
  const latest = new Map<string, ZoneView>();
  for (const { record: r, failcount } of items) {
    const key = `${r.monitorId}\u0000${r.zone}`;
    const seen = latest.get(key);
    if (!seen || seen.at < r.checkedAt) latest.set(key, { monitorId: r.monitorId, zone: r.zone, status: r.status, failcount, at: r.checkedAt });
  }
  return [...latest.values()];
}

/** Most seedState commands in one pipeline. */
const SEED_BATCH = 1000;

/** Views travel with a delay; a poll looks back this far so none is skipped. */
const LOOK_BACK_MS = 10_000;

/** Copies other zones' views of this zone's monitors into Redis, every `pollMs`. */
export class ViewPull {
  private readonly k: Keys;
  private since = 0;
  private readonly failures: FailureLog;

  constructor(private readonly redis: Redis, private readonly store: Store, private readonly zone: string, logger: Logger,
    private readonly counters: Counters, private readonly pollMs = 1000) {
    this.k = keys(zone);
    this.failures = new FailureLog(logger, "reading other zones' views", 'quorum decisions use the views Redis already has until it works');
  }

  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(this.pollMs, 30_000);
    while (!signal.aborted) {
      try {
        await this.pullOnce();
        this.failures.ok();
        backoff.reset();
        await sleep(this.pollMs, signal);
      } catch (err) {
        this.failures.failed(err);
        await sleep(backoff.next(), signal);
      }
    }
  }

  /** One poll: views newer than the last seen (less a look-back) of monitors this zone runs. */
  async pullOnce(): Promise<number> {
    const views = await this.store.zoneViews({ since: Math.max(0, this.since - LOOK_BACK_MS), otherThan: this.zone });
    if (views.length === 0) return 0;
    const ids = [...new Set(views.map((v) => v.monitorId))];
    const here = (await this.redis.call('SMISMEMBER', this.k.monitors, ...ids)) as number[];
    const mine = new Set(ids.filter((_, i) => here[i] === 1));
    const p = this.redis.pipeline();
    let n = 0;
    for (const v of views) {
      this.since = Math.max(this.since, v.at);
      if (!mine.has(v.monitorId)) continue;
      p.hset(this.k.views(v.monitorId), v.zone, `${v.status}|${v.at}|${v.failcount}`);
      n++;
    }
    await p.exec();
    this.counters.inc('zone_views_pulled', n);
    return n;
  }
}

/** Seeds this zone's states of `monitorIds` from the store where Redis has none or older ones (after Redis lost its data). */
export async function seedStates(redis: Redis, store: Store, zone: string, monitorIds: string[]): Promise<number> {
  if (monitorIds.length === 0) return 0;
  const k = keys(zone);
  const views = (await store.zoneViews({ monitorIds })).filter((v) => v.zone === zone);
  let seeded = 0;
  for (let i = 0; i < views.length; i += SEED_BATCH) {
    const p = redis.pipeline();
    for (const v of views.slice(i, i + SEED_BATCH)) p.seedState(k.state(v.monitorId), v.status, v.failcount, v.at);
    const replies = (await p.exec()) ?? [];
    seeded += replies.filter(([err, r]) => !err && r === 1).length;
  }
  return seeded;
}

/**
 * Told monitors' signals between zones, through the store of record: a signal that arrived in this zone's Redis (through
 * its web process) goes up, the latest per monitor in one batch; signals other zones stored come down into this zone's
 * Redis unless it has a newer one. The web process never touches the store; a ping reaches the other zones within
 * about two poll periods.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Counters } from '../core/counters.js';
import { keys, type Keys } from '../core/keys.js';
import { isTold, monitorSignalTtl, parseSignal } from '../core/signals.js';
import type { Monitor } from '../core/types.js';
import type { MonitorSignal, Store } from '../store/store.js';
import { Backoff, FailureLog, sleep, unlessAborted } from './support.js';

/** Signals travel with a delay and writers' clocks differ a little; a pull looks back this far so none is skipped. */
const LOOK_BACK_MS = 10_000;
/** Signal keys read with one MGET, and signals written to the store in one query. */
const CHUNK = 1000;

/** The told monitors this zone runs (kept by the config sync), with the TTL their signal keys get. */
export class ToldSet {
  private ttls = new Map<string, number>();
  private grew = false;
  private onGrow: (() => void) | undefined;

  /** Replaces the set with the told ones of `monitors` (after a full resync). */
  reset(monitors: Monitor[]): void {
    const before = this.ttls;
    this.ttls = new Map(monitors.filter(isTold).map((m) => [m.id, monitorSignalTtl(m)]));
    for (const id of this.ttls.keys()) if (!before.has(id)) this.grew = true;
    if (this.grew) this.onGrow?.();
  }

  /** Adds, changes or (with no monitor) removes one monitor. */
  update(id: string, monitor: Monitor | undefined): void {
    if (monitor && isTold(monitor)) {
      if (!this.ttls.has(id)) this.grew = true;
      this.ttls.set(id, monitorSignalTtl(monitor));
      this.onGrow?.();
    } else this.ttls.delete(id);
  }

  /** Resolves when the set holds a monitor (at once if it does), or when `signal` aborts. */
  nonEmpty(signal: AbortSignal): Promise<void> {
    if (this.ttls.size > 0 || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.onGrow = undefined;
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.onGrow = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Whether monitors were added since the last call: their stored signals, skipped by earlier pulls, are wanted now. */
  takeGrown(): boolean {
    const grew = this.grew;
    this.grew = false;
    return grew;
  }

  ttl(id: string): number | undefined {
    return this.ttls.get(id);
  }

  ids(): string[] {
    return [...this.ttls.keys()];
  }
}

export class SignalSync {
  private readonly k: Keys;
  /** Per monitor, the `at` of the newest signal the store is known to have (so it is not written again). */
  private readonly stored = new Map<string, number>();
  private since = 0;
  /** Set when Redis (re)connected: the next round reads every stored signal, as Redis may have lost them. */
  private readAll = true;
  private readonly failures: FailureLog;

  constructor(private readonly redis: Redis, private readonly store: Store, private readonly zone: string, private readonly told: ToldSet,
    logger: Logger, private readonly counters: Counters, private readonly pollMs = 500) {
    this.k = keys(zone);
    this.failures = new FailureLog(logger, "sharing told monitors' signals through the store of record",
      "signals stay in this zone's Redis and are shared once it works");
    // A Redis that restarted may have lost its signals: read them all from the store again.
    redis.on('ready', () => (this.readAll = true));
  }

  /**
   * Until `signal` aborts, starting once `toldKnown` resolves (the config sync's first resync, which fills the told set);
   * a round still waiting on Redis or the store when `giveUp` aborts is abandoned.
   */
  async run(signal: AbortSignal, giveUp: AbortSignal, toldKnown: Promise<void> = Promise.resolve()): Promise<void> {
    try {
      await unlessAborted(toldKnown, signal);
    } catch {
      return;
    }
    const backoff = new Backoff(this.pollMs, 30_000);
    while (!signal.aborted) {
      try {
        // With no told monitor in this zone there is nothing to push and nothing to pull into Redis: no round until
        // one comes (its first round then reads every stored signal, see pull).
        await this.told.nonEmpty(signal);
        if (signal.aborted) break;
        await unlessAborted(this.syncOnce(), giveUp);
        this.failures.ok();
        backoff.reset();
        await sleep(this.pollMs, signal);
      } catch (err) {
        if (signal.aborted) break;
        this.failures.failed(err);
        await sleep(backoff.next(), signal);
      }
    }
  }

  /** One round: pushes this zone's new signals, then pulls what other zones stored. */
  async syncOnce(): Promise<{ pushed: number; pulled: number }> {
    const pushed = await this.push();
    const pulled = await this.pull();
    return { pushed, pulled };
  }

  /** Writes the signals in this zone's Redis that are newer than what the store is known to have. */
  async push(): Promise<number> {
    const ids = this.told.ids();
    const known = new Set(ids);
    for (const id of this.stored.keys()) if (!known.has(id)) this.stored.delete(id);
    const fresh: MonitorSignal[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const values = await this.redis.mget(chunk.map((id) => this.k.signal(id)));
      values.forEach((json, j) => {
        const signal = parseSignal(json);
        const id = chunk[j]!;
        if (signal && signal.at > (this.stored.get(id) ?? -Infinity)) fresh.push({ monitorId: id, zone: this.zone, ...signal });
      });
    }
    for (let i = 0; i < fresh.length; i += CHUNK) {
      const batch = fresh.slice(i, i + CHUNK);
      await this.store.putSignals(batch);
      for (const s of batch) this.stored.set(s.monitorId, s.at);
    }
    this.counters.inc('signals_pushed', fresh.length);
    return fresh.length;
  }

  /** Copies signals stored since the last pull (less a look-back) of this zone's told monitors into Redis, unless Redis has newer ones. */
  async pull(): Promise<number> {
    // Taken at the start, so a reset or a new told monitor during this round still makes the next one read everything.
    const all = this.told.takeGrown() || this.readAll;
    this.readAll = false;
    try {
      return await this.pullSince(all ? 0 : Math.max(0, this.since - LOOK_BACK_MS));
    } catch (err) {
      if (all) this.readAll = true;
      throw err;
    }
  }

  private async pullSince(since: number): Promise<number> {
    const list = await this.store.signals({ since });
    let newest = this.since;
    const p = this.redis.pipeline();
    const queued: string[] = [];
    const now = Date.now();
    for (const s of list) {
      newest = Math.max(newest, s.storedAt);
      const ttl = this.told.ttl(s.monitorId);
      if (ttl === undefined) continue;
      this.stored.set(s.monitorId, Math.max(this.stored.get(s.monitorId) ?? -Infinity, s.at));
      // The key lives as long as it would have from the ping on, not a full TTL from this copy.
      const left = Math.ceil(ttl - (now - s.at) / 1000);
      if (left <= 0) continue;
      p.putSignal(this.k.signal(s.monitorId), JSON.stringify({ at: s.at, status: s.status, ...(s.message ? { message: s.message } : {}) }), s.at, left);
      queued.push(s.monitorId);
    }
    let written = 0;
    if (queued.length > 0) {
      const replies = (await p.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
      written = replies.filter(([, r]) => r === 1).length;
    }
    this.since = newest;
    this.counters.inc('signals_pulled', written);
    return written;
  }
}

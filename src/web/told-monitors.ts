/** Finds the monitor a webhook or heartbeat token belongs to (from the zone's Redis, briefly cached) and checks the token in constant time. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { keys, type Keys } from '../core/keys.js';
import type { Monitor } from '../core/types.js';
import { toldToken } from '../manage/told-urls.js';

/** What the ingest routes need of a monitor; the token itself is kept only as its SHA-256. */
export interface ToldMonitor {
  id: string;
  name: string;
  ctype: string;
  /** Seconds. */
  interval: number;
  /** Non-secret data fields (grace, warn, noData, …). */
  options: Record<string, unknown>;
  tokenHash: Buffer;
  /** The token as stored (encrypted): while it is unchanged, a reload need not decrypt it again. */
  stored: unknown;
  /** When this process last pushed a recovery for it (ms), so a burst of pings pushes one, not one each. */
  recoveredAt: number;
}

const MONITOR_ID = /^[a-z]-[a-z0-9]{1,40}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The monitor id a token starts with ("<monitor id>.<secret>"), or undefined when it has none. */
export function tokenMonitorId(token: string): string | undefined {
  const dot = token.indexOf('.');
  const id = dot > 0 ? token.slice(0, dot) : '';
  return MONITOR_ID.test(id) ? id : undefined;
}

export class ToldMonitors {
  private readonly cache = new Map<string, { at: number; monitor: Promise<ToldMonitor | undefined> }>();
  private readonly k: Keys;

  /**
   * @param ttlMs how long a monitor's config is trusted before it is read again: a removed monitor or a changed
   *   token is noticed within this time (the bridge itself takes up to a second to carry a change into Redis)
   */
  constructor(private readonly redis: Redis, zone: string, private readonly secretKey: Buffer | undefined, private readonly ttlMs = 2000, private readonly max = 100_000) {
    this.k = keys(zone);
  }

  /** The monitor `id` when `presented` is its token; undefined otherwise (unknown monitor, no token, wrong token). */
  async verify(id: string, presented: string | undefined): Promise<ToldMonitor | undefined> {
    if (!presented || !MONITOR_ID.test(id)) return undefined;
    const monitor = await this.find(id);
    // Hashing both sides gives equal lengths, so the comparison time says nothing about the token.
    return monitor && timingSafeEqual(monitor.tokenHash, sha256(presented)) ? monitor : undefined;
  }

  private find(id: string): Promise<ToldMonitor | undefined> {
    const now = Date.now();
    const hit = this.cache.get(id);
    if (hit && now - hit.at < this.ttlMs) return hit.monitor;
    const monitor = this.load(id, hit?.monitor);
    if (this.cache.size >= this.max) this.cache.clear();
    this.cache.set(id, { at: now, monitor });
    // Unknown monitors are not remembered: one added a moment ago must work as soon as the bridge carried it.
    const forget = () => { if (this.cache.get(id)?.monitor === monitor) this.cache.delete(id); };
    monitor.then((m) => { if (!m) forget(); }, forget);
    return monitor;
  }

  private async load(id: string, previous: Promise<ToldMonitor | undefined> | undefined): Promise<ToldMonitor | undefined> {
    const json = await this.redis.get(this.k.monitor(id));
    if (!json) return undefined;
    const config = JSON.parse(json) as Monitor;
    const { token: stored, ...options } = config.data ?? {};
    const before = await previous?.catch(() => undefined);
    let tokenHash = before && before.stored === stored ? before.tokenHash : undefined;
    if (!tokenHash) {
      const token = toldToken({ id, data: { token: stored } }, this.secretKey);
      if (!token) return undefined;
      tokenHash = sha256(token);
    }
    return { id, name: config.name, ctype: config.ctype, interval: config.interval, options, tokenHash, stored, recoveredAt: before?.recoveredAt ?? 0 };
  }
}

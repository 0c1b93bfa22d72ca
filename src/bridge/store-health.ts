/** Publishes in Redis whether the bridge can write to the store of record, so sinks, `cloudroutes status` and /health can tell. */
import type { Redis } from 'ioredis';
import { parseStoreHealth, type StoreHealthState } from '../core/backlog.js';
import { keys } from '../core/keys.js';

/** Reads what the bridge last published; undefined when it never did or the value is not its JSON. */
async function readStoreHealth(redis: Redis, zone: string): Promise<StoreHealthState | undefined> {
  return parseStoreHealth(await redis.get(keys(zone).storeHealth));
}

/**
 * How long what the bridge published stands: it is published again at least every third of this while the bridge
 * writes (or retries), so a bridge that died during an outage leaves no "store down" that nobody will ever clear.
 */
export const STORE_HEALTH_TTL_MS = 60_000;

/** The store is down while the last write of any part (history, events) failed because the store could not be reached. */
export class StoreHealth {
  private readonly failing = new Map<string, string>();
  private published: boolean | undefined;
  private publishedAt = 0;

  constructor(private readonly redis: Redis, private readonly zone: string) {}

  /** Records how the last write of `part` went: `error` when the store could not be reached. */
  async report(part: string, error?: string): Promise<void> {
    if (error === undefined) this.failing.delete(part);
    else this.failing.set(part, error);
    const up = this.failing.size === 0;
    if (this.published === up && Date.now() - this.publishedAt < STORE_HEALTH_TTL_MS / 3) return;
    const key = keys(this.zone).storeHealth;
    try {
      // A bridge restarted during an outage keeps the time it began.
      const before = this.published === undefined || this.published === up ? await readStoreHealth(this.redis, this.zone) : undefined;
      const since = before && before.up === up ? before.since : Date.now();
      const state: StoreHealthState = { up, since, ...(up ? {} : { error: [...this.failing.values()][0] }) };
      await this.redis.set(key, JSON.stringify(state), 'PX', STORE_HEALTH_TTL_MS);
      this.published = up;
      this.publishedAt = Date.now();
    } catch {
      // Redis is down too: published at the next report.
    }
  }
}

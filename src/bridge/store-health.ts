/** Publishes in Redis whether the bridge can write to the store of record, so sinks and `cloudroutes status` can tell. */
import type { Redis } from 'ioredis';
import { keys } from '../core/keys.js';

export interface StoreHealthState {
  up: boolean;
  since: number;
  error?: string;
}

export class StoreHealth {
  private up: boolean | undefined;

  constructor(private readonly redis: Redis, private readonly zone: string) {}

  /** Runs a store write and records whether it worked; rethrows its error. */
  async track<T>(write: () => Promise<T>): Promise<T> {
    try {
      const out = await write();
      await this.set(true);
      return out;
    } catch (err) {
      await this.set(false, (err as Error).message);
      throw err;
    }
  }

  private async set(up: boolean, error?: string): Promise<void> {
    if (this.up === up) return;
    const state: StoreHealthState = { up, since: Date.now(), ...(error ? { error } : {}) };
    await this.redis.set(keys(this.zone).storeHealth, JSON.stringify(state)).then(
      () => (this.up = up),
      () => undefined,
    );
  }
}

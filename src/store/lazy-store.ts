/** Opens the store of record on first use and again after a failure, so a process starts and runs while the store is down. */
import type { Store } from './store.js';
import { openStore, type OpenStoreOptions } from './open.js';
import { errors } from '../core/errors.js';

export class LazyStore {
  private opening: Promise<Store> | undefined;
  private failedAt = 0;

  constructor(private readonly spec: string, private readonly opts: OpenStoreOptions = {}, private readonly retryMs = 5000) {}

  /** The open store; rejects at once (without retrying) for `retryMs` after a failed open. */
  get(): Promise<Store> {
    if (!this.opening) {
      if (Date.now() - this.failedAt < this.retryMs) return Promise.reject(errors.storeRecentlyDown(this.spec, this.retryMs));
      this.opening = openStore(this.spec, this.opts);
      this.opening.catch(() => {
        this.opening = undefined;
        this.failedAt = Date.now();
      });
    }
    return this.opening;
  }

  async close(): Promise<void> {
    const s = await this.opening?.catch(() => undefined);
    await s?.close();
  }
}

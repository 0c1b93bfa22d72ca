/** In-process counters flushed into the zone's Redis counters hash, so `cloudroutes stats` can show them. */
import type { Redis } from 'ioredis';
import { everySecond } from './ticker.js';

export class Counters {
  private pending = new Map<string, number>();
  readonly totals = new Map<string, number>();
  private cancel: (() => void) | undefined;

  constructor(private readonly redis: Redis | undefined, private readonly hashKey: string, readonly proc: string) {}

  inc(name: string, by = 1): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + by);
    // Nothing to add to Redis: a round that counted none of something costs no flush.
    if (by === 0) return;
    const key = `${this.proc}.${name}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + by);
  }

  /** Adds to this process's totals (its /metrics) what a script already added to the zone's counters in Redis. */
  counted(name: string, by = 1): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.totals.get(name) ?? 0;
  }

  /** Starts flushing once a second, in the process's shared tick. */
  start(): void {
    this.cancel ??= everySecond(() => void this.flush());
  }

  async flush(): Promise<void> {
    if (!this.redis || this.pending.size === 0 || this.redis.status !== 'ready') return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      const p = this.redis.pipeline();
      for (const [k, v] of batch) p.hincrby(this.hashKey, k, v);
      await p.exec();
    } catch {
      for (const [k, v] of batch) this.pending.set(k, (this.pending.get(k) ?? 0) + v);
    }
  }

  async stop(): Promise<void> {
    this.cancel?.();
    this.cancel = undefined;
    await this.flush();
  }
}

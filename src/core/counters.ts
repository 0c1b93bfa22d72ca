/** In-process counters flushed into the zone's Redis counters hash, so `cloudroutes stats` can show them. */
import type { Redis } from 'ioredis';

export class Counters {
  private pending = new Map<string, number>();
  readonly totals = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: Redis | undefined, private readonly hashKey: string, readonly proc: string) {}

  inc(name: string, by = 1): void {
    const key = `${this.proc}.${name}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + by);
    this.totals.set(name, (this.totals.get(name) ?? 0) + by);
  }

  /** Adds to this process's totals (its /metrics) what a script already added to the zone's counters in Redis. */
  counted(name: string, by = 1): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + by);
  }

  get(name: string): number {
    return this.totals.get(name) ?? 0;
  }

  /** Starts flushing every `ms`. */
  start(ms = 1000): void {
    this.timer = setInterval(() => void this.flush(), ms);
    this.timer.unref();
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
    if (this.timer) clearInterval(this.timer);
    await this.flush();
  }
}

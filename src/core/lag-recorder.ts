/** A lag histogram that a process fills and adds, once a second, to a zone-wide Redis hash (see keys.lagKey / startLagKey). */
import type { Redis } from 'ioredis';
import { Histogram } from './histogram.js';
import { everySecond } from './ticker.js';

const RAISE_MAX = "local m = tonumber(redis.call('HGET', KEYS[1], 'max') or '0'); if tonumber(ARGV[1]) > m then redis.call('HSET', KEYS[1], 'max', ARGV[1]) end";

export class LagRecorder {
  private readonly pending = new Histogram();
  private readonly cancel: () => void;

  constructor(private readonly redis: Redis | undefined, private readonly key: string) {
    this.cancel = everySecond(() => void this.flush());
  }

  add(ms: number): void {
    this.pending.add(ms);
  }

  /** Adds what was recorded since the last flush to the hash; kept for the next flush while Redis is away. */
  async flush(): Promise<void> {
    const redis = this.redis;
    if (!redis || this.pending.count === 0 || redis.status !== 'ready') return;
    const p = redis.pipeline();
    for (const [b, n] of this.pending.buckets) p.hincrby(this.key, String(b), n);
    p.eval(RAISE_MAX, 1, this.key, this.pending.max);
    this.pending.clear();
    await p.exec().catch(() => undefined);
  }

  async stop(): Promise<void> {
    this.cancel();
    await this.flush();
  }
}

/** The histogram a lag hash holds. */
export async function readLagHash(redis: Redis, key: string): Promise<Histogram> {
  const h = new Histogram();
  h.merge(await redis.hgetall(key));
  return h;
}

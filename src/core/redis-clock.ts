/**
 * The zone's one clock: Redis's TIME. Due times come from the schedule, which Redis's clock keeps; a process that
 * stamps a job or measures a lag against a due time reads this clock, so a machine whose own clock runs seconds
 * fast or slow stamps nothing wrong. The offset to the local clock is measured every `everyMs` (half the round trip
 * is the error) and kept while Redis does not answer.
 */
import type { Redis } from 'ioredis';

export class RedisClock {
  private offset = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly redis: Redis, everyMs = 10_000) {
    this.timer = setInterval(() => void this.sync(), everyMs);
    this.timer.unref();
    void this.sync();
  }

  /** Now, by Redis's clock (ms). */
  now(): number {
    return Date.now() + this.offset;
  }

  /** Takes a reading of Redis's clock that came with a reply (a script's TIME), just received. */
  observe(redisNowMs: number): void {
    if (Number.isFinite(redisNowMs) && redisNowMs > 0) this.offset = redisNowMs - Date.now();
  }

  /** Measures the offset once; resolves when done, or after `waitMs` when Redis does not answer (the offset is kept). */
  async sync(waitMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((r) => (timer = setTimeout(r, waitMs)));
    const before = Date.now();
    const measured = this.redis.time().then(([s, us]) => {
      const after = Date.now();
      // A reply after giving up has waited too long to tell the offset within the round trip.
      if (after - before <= waitMs) this.offset = Number(s) * 1000 + Math.floor(Number(us) / 1000) - Math.round((before + after) / 2);
    }, () => undefined);
    await Promise.race([measured, gaveUp]);
    clearTimeout(timer);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** At most one log line per key in a period: for what anyone (a client, a broken config, a bug in a loop) can make happen at any rate. */
export class LogThrottle {
  private readonly seen = new Map<string, { at: number; held: number }>();

  /** `everyMs`: the period; `maxKeys`: keys remembered, so a sender of many keys cannot grow the map without end. */
  constructor(readonly everyMs: number, private readonly maxKeys = 10_000) {}

  /**
   * Whether a line for `key` may be logged now: undefined when one was logged within the period (this one is held
   * back), else how many were held back since the last.
   */
  take(key: string, now = Date.now()): number | undefined {
    const s = this.seen.get(key);
    if (s && now - s.at < this.everyMs) {
      s.held++;
      return undefined;
    }
    if (!s && this.seen.size >= this.maxKeys) this.forget(now);
    this.seen.set(key, { at: now, held: 0 });
    return s?.held ?? 0;
  }

  /** Drops the keys whose period is over; all of them when that frees nothing (a line more, never a map without end). */
  private forget(now: number): void {
    for (const [k, v] of this.seen) if (now - v.at >= this.everyMs) this.seen.delete(k);
    if (this.seen.size >= this.maxKeys) this.seen.clear();
  }
}

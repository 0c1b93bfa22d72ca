/** Failed authentication per source address: after `limit` failures within a minute, the source is refused for a cool-down. */
export class AuthThrottle {
  private readonly failures = new Map<string, number[]>();
  private readonly blocked = new Map<string, number>();

  constructor(private readonly limit = 10, private readonly windowMs = 60_000, readonly cooldownMs = 300_000) {}

  /** Milliseconds the source must still wait, or 0 when it may try. */
  retryAfter(source: string, now = Date.now()): number {
    const until = this.blocked.get(source);
    if (until === undefined) return 0;
    if (until > now) return until - now;
    this.blocked.delete(source);
    return 0;
  }

  /** Records a failure; returns true when this failure starts a cool-down. */
  fail(source: string, now = Date.now()): boolean {
    const recent = (this.failures.get(source) ?? []).filter((t) => now - t < this.windowMs);
    recent.push(now);
    if (recent.length >= this.limit) {
      this.failures.delete(source);
      this.blocked.set(source, now + this.cooldownMs);
      return true;
    }
    this.failures.set(source, recent);
    this.sweep(now);
    return false;
  }

  /** Bounds memory when many sources fail once each. */
  private sweep(now: number): void {
    if (this.failures.size < 10_000) return;
    for (const [source, times] of this.failures) if (now - times[times.length - 1]! >= this.windowMs) this.failures.delete(source);
  }
}

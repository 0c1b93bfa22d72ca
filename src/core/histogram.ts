/**
 * A log-bucketed histogram of milliseconds (exact to 10 ms, then ~5% wide buckets) whose
 * buckets add up across processes in a Redis hash, so percentiles cover every control.
 */

/** The bucket a value falls in: its lower bound in ms. */
export function bucketOf(ms: number): number {
  if (ms <= 0) return 0;
  if (ms < 10) return Math.floor(ms);
  const step = Math.floor(Math.log(ms / 10) / Math.log(1.05));
  return Math.floor(10 * 1.05 ** step);
}

export class Histogram {
  readonly buckets = new Map<number, number>();
  count = 0;
  max = 0;

  add(ms: number): void {
    const b = bucketOf(ms);
    this.buckets.set(b, (this.buckets.get(b) ?? 0) + 1);
    this.count++;
    if (ms > this.max) this.max = ms;
  }

  /** Adds buckets read back from Redis (field = bucket lower bound). */
  merge(fields: Record<string, string>): void {
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'max') {
        this.max = Math.max(this.max, Number(v));
        continue;
      }
      const b = Number(k);
      const n = Number(v);
      if (!Number.isFinite(b) || !Number.isFinite(n)) continue;
      this.buckets.set(b, (this.buckets.get(b) ?? 0) + n);
      this.count += n;
    }
  }

  /** The value at quantile q (0..1), as a bucket's lower bound; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (const b of [...this.buckets.keys()].sort((x, y) => x - y)) {
      seen += this.buckets.get(b)!;
      if (seen >= rank) return b;
    }
    return this.max;
  }

  clear(): void {
    this.buckets.clear();
    this.count = 0;
    this.max = 0;
  }
}

/**
 * Results on their way to the zone's results stream, kept until Redis confirms them.
 *
 * A worker (or the web, for told monitors) pushes each encoded result here; batches go out as one
 * pipeline of XADDs, up to RESULTS_PER_ENTRY results to an entry (one per line: encoded results hold no raw newline),
 * and a batch leaves the outbox only once Redis has answered every XADD in it. While
 * Redis is unreachable, results wait and the batch is sent again; a batch sent again after Redis took part
 * of it gives duplicates, which recordResults recognises by (monitor, due). The outbox is bounded: past its
 * capacity a result is refused, and the caller counts it. So is the stream: while it holds its most (no sink reads it)
 * results wait here as they do while Redis is unreachable, so Redis's memory is never what gives.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const BATCH = 256;
/**
 * Results carried by one stream entry: Redis's work on a stream (adding, reading, acknowledging, trimming) is mostly
 * per entry. A sink records an entry's results in one script call, so this also bounds what one read brings it.
 */
export const RESULTS_PER_ENTRY = 16;
/**
 * How long a result waits for others before its batch goes out: Redis spends most of its time per request, not per
 * result, so results that finish within this of each other go out as one pipeline, and fill stream entries, at any
 * load. 50 ms is nothing next to a check's interval and its reactions.
 */
export const OUTBOX_LINGER_MS = 50;

/** Waits `ms`; returns the next, doubled, wait (at most 2 s). */
async function pause(ms: number): Promise<number> {
  await new Promise((r) => setTimeout(r, ms));
  return Math.min(ms * 2, 2000);
}

export class ResultOutbox {
  private items: string[] = [];
  private head = 0;
  private sending = false;
  private closed = false;
  private failing = false;
  private idle: (() => void)[] = [];

  private streamFull = false;
  /** Most entries the stream may hold (0: no limit). */
  private readonly maxEntries: number;

  /** `maxWaiting`: most results the stream may hold waiting for a sink (0: no limit). */
  constructor(
    private readonly redis: Redis, private readonly stream: string, readonly capacity: number, private readonly logger: Logger,
    maxWaiting = 0,
  ) {
    this.maxEntries = Math.ceil(maxWaiting / RESULTS_PER_ENTRY);
  }

  /** Results held: not yet confirmed by Redis. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues one encoded result; false when the outbox is full (or closed). */
  push(encoded: string): boolean {
    if (this.closed || this.length >= this.capacity) return false;
    this.items.push(encoded);
    if (!this.sending) {
      this.sending = true;
      setTimeout(() => void this.send(), OUTBOX_LINGER_MS);
    }
    return true;
  }

  /** Resolves when every result pushed so far is confirmed (or the outbox is closed). */
  drained(): Promise<void> {
    if ((this.length === 0 || this.closed) && !this.sending) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  close(): void {
    this.closed = true;
  }

  private async send(): Promise<void> {
    try {
      let backoff = 100;
      while (this.length > 0 && !this.closed) {
        const batch = this.items.slice(this.head, this.head + BATCH);
        const entries: string[] = [];
        for (let i = 0; i < batch.length; i += RESULTS_PER_ENTRY) entries.push(batch.slice(i, i + RESULTS_PER_ENTRY).join('\n'));
        // The stream's length goes with each batch; while it is known full only the length is asked for, so the
        // stream passes its cap by at most one batch of each outbox.
        const probe = this.maxEntries > 0;
        const sending = this.streamFull ? [] : entries;
        const pipeline = this.redis.pipeline();
        if (probe) pipeline.xlen(this.stream);
        for (const entry of sending) pipeline.xadd(this.stream, '*', 'r', entry);
        let length = 0;
        let error: string | undefined;
        try {
          const replies = (await pipeline.exec()) ?? [];
          error = replies.find(([err]) => err)?.[0]?.message ?? (replies.length < sending.length + Number(probe) ? 'Redis answered part of a batch' : undefined);
          if (error === undefined && probe) length = Number(replies[0]![1]);
        } catch (err) {
          error = (err as Error).message;
        }
        if (error !== undefined) {
          if (this.closed) break;
          if (!this.failing) this.logger.warn({ err: error, held: this.length }, 'results cannot reach Redis; holding them and retrying (is Redis reachable?)');
          this.failing = true;
          backoff = await pause(backoff);
          continue;
        }
        if (this.failing) this.logger.info({ held: this.length }, 'results reach Redis again');
        this.failing = false;
        // The entries sent went in even when the length said full (it was read before them).
        this.head += Math.min(batch.length, sending.length * RESULTS_PER_ENTRY);
        const full = probe && length >= this.maxEntries;
        if (full && !this.streamFull) {
          this.logger.error({ waitingEntries: length, held: this.length },
            'the results stream is full (no sink has read it for a while: is one running?); results are held here and dropped, counted, past the outbox');
        }
        if (!full && this.streamFull) this.logger.info({ held: this.length }, 'the results stream takes results again');
        this.streamFull = full;
        if (full && !this.closed) backoff = await pause(backoff);
        else backoff = 100;
        if (this.head > 4096 && this.head * 2 > this.items.length) {
          this.items = this.items.slice(this.head);
          this.head = 0;
        }
      }
    } finally {
      this.sending = false;
      for (const r of this.idle.splice(0)) r();
    }
  }
}

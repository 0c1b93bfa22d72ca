/** Several RethinkDB changefeeds (one per config table) merged into one ChangeFeed of ConfigChange batches. */
import type { RCursor } from 'rethinkdb-ts';
import { errors } from '../core/errors.js';
import { hintFor, reasonOf } from './rethinkdb-errors.js';
import type { ChangeFeed, ConfigChange } from './store.js';

/** One open changefeed: the cursor of `table.changes()` and the kind of record its table holds. */
export interface FeedSource {
  kind: ConfigChange['kind'];
  table: string;
  /** host:port the feed runs on. */
  server: string;
  cursor: RCursor;
}

interface ChangeRow {
  new_val?: { id?: unknown } | null;
  old_val?: { id?: unknown } | null;
  /** Set when the server dropped changes (its buffer overflowed): the reader must resync. */
  error?: string;
}

/**
 * Reads every source in the background and hands out what arrived as one batch per next().
 * The first source that breaks (connection lost, server restart, dropped changes) makes iteration
 * throw CR_STORE after the changes received before it; close() ends iteration and stops every feed.
 */
export class MergedFeed implements ChangeFeed {
  private pending: ConfigChange[] = [];
  private failure: Error | undefined;
  private closed = false;
  private wake: (() => void) | undefined;
  private readonly batches: AsyncGenerator<ConfigChange[]>;

  constructor(private readonly sources: FeedSource[]) {
    for (const source of sources) void this.pump(source);
    this.batches = this.iterate();
  }

  [Symbol.asyncIterator](): AsyncIterator<ConfigChange[]> {
    return this.batches;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.notify();
    await this.stopAll();
  }

  private async *iterate(): AsyncGenerator<ConfigChange[]> {
    for (;;) {
      if (this.closed) return;
      if (this.pending.length > 0) {
        yield this.pending.splice(0);
        continue;
      }
      if (this.failure) {
        await this.stopAll();
        throw this.failure;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  private async pump(source: FeedSource): Promise<void> {
    try {
      for (;;) {
        const row = (await source.cursor.next()) as ChangeRow;
        if (this.closed) return;
        if (row.error !== undefined) throw new Error(row.error);
        const id = row.new_val?.id ?? row.old_val?.id;
        if (typeof id === 'string') {
          this.pending.push({ kind: source.kind, id });
          this.notify();
        }
      }
    } catch (err) {
      if (this.closed) return;
      this.failure ??= broken(source, err);
      this.notify();
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async stopAll(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.cursor.close().catch(() => undefined)));
  }
}

function broken(source: FeedSource, err: unknown): Error {
  const e = errors.store(
    `the change feed of table ${source.table} on RethinkDB ${source.server} broke (${reasonOf(err)}); ` +
    `the reader resyncs and follows again; if it keeps breaking, ${hintFor(err, source.server)}`);
  (e as Error & { cause?: unknown }).cause = err;
  return e;
}

/** Up: drains one Redis stream into the store of record, acknowledging entries only after the store committed. */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Counters } from '../core/counters.js';
import { entryRecords } from '../core/history-entry.js';
import { fieldsToObject } from '../core/redis.js';
import { deadLetterFields, isRefusal } from './dead-letters.js';
import { BadEntry } from './entries.js';
import type { StoreHealth } from './store-health.js';
import type { StreamWriter } from './stream-writers.js';
import { Backoff, FailureLog, sleep, unlessAborted } from './support.js';

export const GROUP = 'bridge';

export interface DrainOptions {
  /** Consumer name in the group; unique per bridge process. */
  consumer: string;
  /** Entries read per round. */
  batchSize?: number;
  /** How long one read waits for new entries (ms). */
  blockMs?: number;
  /** Entries pending this long with another consumer are taken over (ms). */
  claimIdleMs?: number;
  /**
   * After a read that was not full, how long the next waits (ms): the store pays per transaction and Redis per call,
   * so at low load a few hundred ms of waiting turn many one-entry rounds into one (nothing decides on the store).
   */
  lingerMs?: number;
  /**
   * Most dead letters kept (CLOUDROUTES_BACKLOG_MAX; 0 or absent: no limit): a store that refuses every record would
   * otherwise move the whole backlog into them, past the cap the backlog itself keeps. The oldest go, counted.
   */
  deadLettersMax?: number;
}

export const DRAIN_LINGER_MS = 250;
/**
 * How long a read waits for new entries by default (ms): a read that ends empty costs the bridge and Redis a wakeup,
 * and an idle stream (the events stream at any steady load) would otherwise pay several a second. The bridge stops
 * without waiting for it: a read under way when it stops is given up (entries it may still bring stay pending).
 */
export const DRAIN_BLOCK_MS = 5000;

/** A stream entry as Redis returns it; fields are null for an entry deleted while pending. */
type Entry = [id: string, fields: string[] | null];

/** A record of an entry read: `id` names the record (see entryRecords), `entryId` the stream entry that holds it. */
interface Item {
  id: string;
  entryId: string;
  fields: Record<string, string>;
}

/** A record read and parsed, with what the store gets. */
interface Parsed<R> extends Item {
  record: R;
}

/** Reads `stream` with the `bridge` consumer group, turns entries into records and writes them to the store. */
export class StreamDrain<R> {
  private readonly storeFailures: FailureLog;
  private readonly redisFailures: FailureLog;
  /** Epoch ms of the last round that read the stream and stored what it read (0: none yet). */
  lastDrainedAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly stream: string,
    /** Counter prefix and log label: history or events. */
    private readonly label: string,
    private readonly writer: StreamWriter<R>,
    /** The dead-letter stream: entries whose record the store refused are set aside there. */
    private readonly deadLetters: string,
    private readonly health: StoreHealth,
    private readonly logger: Logger,
    private readonly counters: Counters,
    private readonly opts: DrainOptions,
  ) {
    this.storeFailures = new FailureLog(logger, `writing ${label} to the store of record`, `entries stay in the Redis stream ${stream} until it works`);
    this.redisFailures = new FailureLog(logger, `reading the Redis stream ${stream}`, 'check Redis');
  }

  private giveUp = new AbortController().signal;

  /**
   * Own pending entries first, then entries stuck with dead consumers, then new ones, until `signal` aborts;
   * a Redis call still unanswered when `giveUp` aborts is abandoned.
   */
  async run(signal: AbortSignal, giveUp: AbortSignal): Promise<void> {
    this.giveUp = giveUp;
    const claimEveryMs = Math.min(Math.max(this.opts.claimIdleMs ?? 30_000, 100), 30_000);
    const backoff = new Backoff();
    let phase: 'own' | 'claim' | 'new' = 'own';
    let lastClaim = 0;
    await this.ensureGroup().catch(() => undefined);
    while (!signal.aborted) {
      try {
        if (phase === 'own') {
          const entries = await this.read('0', 0);
          if (entries.length === 0) phase = 'claim';
          else await this.handle(entries, signal);
        } else if (phase === 'claim' || Date.now() - lastClaim >= claimEveryMs) {
          await this.claimAll(signal);
          lastClaim = Date.now();
          phase = 'new';
        } else {
          const entries = await unlessAborted(this.read('>', Math.min(this.opts.blockMs ?? DRAIN_BLOCK_MS, claimEveryMs)), signal);
          if (entries.length) await this.handle(entries, signal);
          if (entries.length > 0 && entries.length < (this.opts.batchSize ?? 500)) await sleep(this.opts.lingerMs ?? DRAIN_LINGER_MS, signal);
        }
        this.redisFailures.ok();
        backoff.reset();
        if (!signal.aborted) this.lastDrainedAt = Date.now();
      } catch (err) {
        if (signal.aborted) break;
        if (/NOGROUP/.test((err as Error).message)) {
          // The stream or group vanished (Redis lost its data or someone deleted it): make them again.
          await this.ensureGroup().catch(() => undefined);
          continue;
        }
        this.redisFailures.failed(err);
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.call(this.redis.xgroup('CREATE', this.stream, GROUP, '0', 'MKSTREAM'));
      this.logger.info({ stream: this.stream, group: GROUP }, 'consumer group created');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
  }

  private async read(from: '0' | '>', blockMs: number): Promise<Entry[]> {
    const { consumer, batchSize = 500 } = this.opts;
    const reply = (await this.call(blockMs > 0
      ? this.redis.xreadgroup('GROUP', GROUP, consumer, 'COUNT', batchSize, 'BLOCK', blockMs, 'STREAMS', this.stream, from)
      : this.redis.xreadgroup('GROUP', GROUP, consumer, 'COUNT', batchSize, 'STREAMS', this.stream, from))) as [string, Entry[]][] | null;
    return reply?.[0]?.[1] ?? [];
  }

  /** Takes over every entry idle for longer than claimIdleMs with other (presumably dead) consumers. */
  private async claimAll(signal: AbortSignal): Promise<void> {
    const idle = this.opts.claimIdleMs ?? 30_000;
    let cursor = '0-0';
    do {
      const [next, entries, deleted] = (await this.call(this.redis.xautoclaim(
        this.stream, GROUP, this.opts.consumer, idle, cursor, 'COUNT', this.opts.batchSize ?? 500,
      ))) as [string, Entry[], string[] | undefined];
      cursor = next;
      if (entries.length) {
        this.logger.warn({ stream: this.stream, count: entries.length, first: entries[0]![0] }, 'took over entries left unacknowledged by another bridge');
        this.counters.inc(`${this.label}_claimed`, entries.length);
        await this.handle(entries, signal);
      }
      if (deleted?.length) this.logger.debug({ stream: this.stream, deleted }, 'pending entries were already deleted');
    } while (cursor !== '0-0' && !signal.aborted);
    await this.forgetIdleConsumers(Math.max(idle, 60_000));
  }

  /** Removes consumers with nothing pending that have not read for a while, so the group does not fill with dead pids. */
  private async forgetIdleConsumers(idleMs: number): Promise<void> {
    const consumers = (await this.call(this.redis.xinfo('CONSUMERS', this.stream, GROUP))) as (string | number)[][];
    for (const c of consumers) {
      const info = fieldsToObject(c.map(String));
      if (info.name !== this.opts.consumer && Number(info.pending) === 0 && Number(info.idle) > idleMs) {
        await this.call(this.redis.xgroup('DELCONSUMER', this.stream, GROUP, info.name!));
      }
    }
  }

  /**
   * Writes a batch to the store (retrying while the store is down, until it works or the bridge stops), then acks and
   * trims it. A record that cannot be read or that the store refuses is set aside alone as a dead letter once the rest
   * of its entry is written; the rest are written.
   */
  private async handle(entries: Entry[], signal: AbortSignal): Promise<void> {
    const parsed: Parsed<R>[] = [];
    const bad: { item: Item; error: string; why: 'malformed' | 'refused' }[] = [];
    for (const [entryId, fields] of entries) {
      if (!fields) continue;
      for (const { id, fields: f } of entryRecords(entryId, fields)) {
        try {
          parsed.push({ id, entryId, fields: f, record: this.writer.parse(id, f) });
        } catch (err) {
          if (!(err instanceof BadEntry)) throw err;
          // Set aside, not dropped: what the record said stays readable ("cloudroutes backlog list") until someone drops it.
          bad.push({ item: { id, entryId, fields: f }, error: `malformed entry: ${err.message}`, why: 'malformed' });
        }
      }
    }
    const backoff = new Backoff();
    let refused: { item: Parsed<R>; error: string }[] = [];
    while (parsed.length) {
      try {
        refused = await this.store(parsed);
        this.storeFailures.ok({ stream: this.stream });
        await this.health.report(this.label);
        break;
      } catch (err) {
        this.counters.inc('store_errors');
        this.storeFailures.failed(err, { stream: this.stream, pending: entries.length });
        await this.health.report(this.label, (err as Error).message);
        // Stopping now leaves the entries pending; the next start reads them again.
        if (signal.aborted) return;
        await sleep(backoff.next(), signal);
        if (signal.aborted) return;
      }
    }
    for (const { item, error } of refused) bad.push({ item, error, why: 'refused' });
    await this.setAside(bad);
    const ids = entries.map(([id]) => id);
    await this.call(this.redis.ackAndTrim(this.stream, GROUP, ...ids));
    if (parsed.length > refused.length) {
      this.counters.inc(`${this.label}_written`, parsed.length - refused.length);
      this.counters.inc(`${this.label}_batches_written`);
    }
  }

  /**
   * Writes `items`. When the store refuses the batch, writes them one by one to find the records it refuses; returns
   * those. Throws while the store is down: a refusal is the record's fault, not a store down.
   */
  private async store(items: Parsed<R>[]): Promise<{ item: Parsed<R>; error: string }[]> {
    try {
      await this.writer.write(items.map((i) => i.record));
      return [];
    } catch (err) {
      if (!isRefusal(err)) throw err;
    }
    const refused: { item: Parsed<R>; error: string }[] = [];
    for (const item of items) {
      try {
        await this.writer.write([item.record]);
      } catch (err) {
        if (!isRefusal(err)) throw err;
        refused.push({ item, error: (err as Error).message });
      }
    }
    return refused;
  }

  /**
   * Moves records to the dead letters (trimming them to their most) and acks their entries, one transaction per entry
   * so that a record is never both there and in the stream, nor lost; the entry's other records are already written.
   */
  private async setAside(bad: { item: Item; error: string; why: 'malformed' | 'refused' }[]): Promise<void> {
    const max = this.opts.deadLettersMax ?? 0;
    const byEntry = new Map<string, typeof bad>();
    for (const b of bad) byEntry.set(b.item.entryId, [...(byEntry.get(b.item.entryId) ?? []), b]);
    for (const [entryId, letters] of byEntry) {
      const tx = this.redis.multi();
      for (const { item, error } of letters) tx.xadd(this.deadLetters, '*', ...deadLetterFields(item.id, item.fields, error));
      tx.xack(this.stream, GROUP, entryId).xdel(this.stream, entryId);
      if (max > 0) tx.xtrim(this.deadLetters, 'MAXLEN', max);
      const replies = await this.call(tx.exec());
      const failed = replies?.find(([err]) => err);
      if (failed) throw failed[0];
      for (const { item, error, why } of letters) {
        this.counters.inc(why === 'malformed' ? 'bad_entries' : `${this.label}_dead_letters`);
        this.logger.error({ stream: this.stream, entryId: item.id, monitorId: item.fields.monitorId, deadLetters: this.deadLetters, err: error },
          why === 'malformed'
            ? 'malformed stream entry set aside ("cloudroutes backlog list" shows it, "cloudroutes backlog drop" deletes it)'
            : 'the store of record refused a record; it is set aside and the rest goes on ("cloudroutes backlog list" shows it, "cloudroutes backlog retry" writes it again once the cause is fixed)');
      }
      const trimmed = max > 0 ? Number(replies![replies!.length - 1]![1]) : 0;
      if (trimmed > 0) {
        this.counters.inc(`${this.label}_dead_letters_trimmed`, trimmed);
        this.logger.error({ stream: this.stream, deadLetters: this.deadLetters, trimmed, max },
          `more dead letters than CLOUDROUTES_BACKLOG_MAX: the oldest are dropped, counted bridge.${this.label}_dead_letters_trimmed (what does the store refuse? "cloudroutes backlog list" shows why)`);
      }
    }
  }

  /** Whether the last write of this stream's records to the store failed. */
  get storeFailing(): boolean {
    return this.storeFailures.isFailing;
  }

  private call<T>(p: Promise<T>): Promise<T> {
    return unlessAborted(p, this.giveUp);
  }
}

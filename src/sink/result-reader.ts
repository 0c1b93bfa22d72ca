/**
 * Reads the zone's results stream as one consumer of the sinks' group. New entries come with XREADGROUP; every few
 * seconds the entries another consumer has held too long (a sink killed with its results in flight) are claimed, so
 * a result waits for a dead sink at most `claimIdleMs`. An entry stays pending until recordResults acknowledges it in
 * the same script that records it.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface StreamEntry {
  id: string;
  /** The entry's `r` field: the encoded result ('' when absent). */
  raw: string;
}

export interface ResultReaderOptions {
  stream: string;
  group: string;
  consumer: string;
  logger: Logger;
  /** How long a read waits for new entries (ms); default CLAIM_EVERY_MS, so an idle sink still claims on time. */
  blockMs?: number;
  /** Entries pending this long with another consumer are taken over (ms). */
  claimIdleMs?: number;
}

const CLAIM_EVERY_MS = 2000;
const PRUNE_EVERY_MS = 60_000;
/** Consumers with nothing pending and silent this long are removed from the group (restarted sinks leave one each). */
const CONSUMER_GONE_MS = 600_000;

type RawEntry = [string, string[] | null];

function entries(raw: RawEntry[]): StreamEntry[] {
  return raw.map(([id, fields]) => {
    const i = fields ? fields.indexOf('r') : -1;
    return { id, raw: i >= 0 && i % 2 === 0 ? fields![i + 1] ?? '' : '' };
  });
}

export class ResultReader {
  private readonly conn: Redis;
  private lastClaim = 0;
  private lastPrune = 0;

  /** `redis` is duplicated: a blocking read holds its connection. */
  constructor(redis: Redis, private readonly opts: ResultReaderOptions) {
    this.conn = redis.duplicate();
    this.conn.on('error', () => undefined); // the sink's own connection reports Redis being down
  }

  /** Creates the group at the start of the stream if it is not there (entries added before any sink ran are read). */
  async ensureGroup(): Promise<void> {
    try {
      await this.conn.xgroup('CREATE', this.opts.stream, this.opts.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!/BUSYGROUP/.test((err as Error).message)) throw err;
    }
  }

  /** Up to `count` entries: first those claimed from consumers that held them too long, else new ones. */
  async read(count: number): Promise<StreamEntry[]> {
    const { stream, group, consumer } = this.opts;
    try {
      const now = Date.now();
      if (now - this.lastClaim >= CLAIM_EVERY_MS) {
        this.lastClaim = now;
        const [, claimed] = (await this.conn.xautoclaim(stream, group, consumer, this.opts.claimIdleMs ?? 15_000, '0-0', 'COUNT', count)) as [string, RawEntry[]];
        if (now - this.lastPrune >= PRUNE_EVERY_MS) await this.prune(now);
        if (claimed.length > 0) {
          this.opts.logger.warn({ results: claimed.length }, 'took over results a sink held too long (a sink died or stalls)');
          return entries(claimed);
        }
      }
      const r = (await this.conn.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', this.opts.blockMs ?? CLAIM_EVERY_MS, 'STREAMS', stream, '>')) as [string, RawEntry[]][] | null;
      return r ? entries(r[0]![1]) : [];
    } catch (err) {
      // Redis restarted empty or the stream was removed: the group is made again, and reading goes on.
      if (/NOGROUP/.test((err as Error).message)) {
        await this.ensureGroup();
        return [];
      }
      throw err;
    }
  }

  private async prune(now: number): Promise<void> {
    this.lastPrune = now;
    const list = (await this.conn.xinfo('CONSUMERS', this.opts.stream, this.opts.group)) as (string | number)[][];
    for (const c of list) {
      const field = (k: string) => c[c.indexOf(k) + 1];
      if (field('name') !== this.opts.consumer && Number(field('pending')) === 0 && Number(field('idle')) > CONSUMER_GONE_MS) {
        await this.conn.xgroup('DELCONSUMER', this.opts.stream, this.opts.group, String(field('name')));
      }
    }
  }

  close(): void {
    this.conn.disconnect();
  }
}

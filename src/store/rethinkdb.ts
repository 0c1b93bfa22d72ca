/** The store of record in RethinkDB (a single server or a cluster): documents keyed by id, changefeeds for config. */
import { r, type RCursor, type RDatum, type WriteResult } from 'rethinkdb-ts';
import { errors } from '../core/errors.js';
import type { EventRecord, HistoryRecord, Monitor, Reaction, Target } from '../core/types.js';
import { MergedFeed, type FeedSource } from './rethinkdb-feed.js';
import { RethinkPool, type PoolOptions } from './rethinkdb-pool.js';
import { checkSchema, createSchema, tableLayouts, type SchemaReport, type TableLayout, type TableLayoutOf, type TableName } from './rethinkdb-schema.js';
import type { RethinkTarget } from './rethinkdb-url.js';
import { claimReaction, putSignals, putZoneViews, signals, zoneViews } from './rethinkdb-zones.js';
import type { ApiKey, ChangeFeed, EventQuery, HistoryBucket, HistoryBucketsQuery, HistoryQuery, MonitorSignal, ReactionClaim, ClaimVerdict, Store, StoredSignal, ZoneView, ZoneViewQuery } from './store.js';

const DEFAULT_LIMIT = 1000;
/** Insert conflict rule: a record already stored stays as it is (RethinkDB wants all three arguments). */
const keepStored = (_id: RDatum, stored: RDatum, _incoming: RDatum) => stored;

/** A target as stored: keyed by its name, so the change feed names it as every other record, by id. */
type TargetDoc = Target & { id: string };
const targetOf = ({ id: _id, ...t }: TargetDoc): Target => t;

/** Store of record on RethinkDB; call connect() before anything else. */
export class RethinkStore implements Store {
  private readonly pool: RethinkPool;
  private readonly db: string;

  constructor(readonly target: RethinkTarget, opts: PoolOptions = {}) {
    this.pool = new RethinkPool(target, opts);
    this.db = target.db;
  }

  /** Connects to the servers; throws CR_STORE naming each server and why when none can be reached. */
  async connect(): Promise<void> {
    await this.pool.open();
  }

  async init(): Promise<void> {
    await createSchema(this.pool, this.db);
  }

  /** init() with replicas and shards for every table (created with them, or reconfigured when they differ); says what changed. */
  async setup(layout: Partial<TableLayout>): Promise<SchemaReport> {
    return createSchema(this.pool, this.db, layout);
  }

  async verify(): Promise<void> {
    await checkSchema(this.pool, this.db);
  }

  /** Replicas and shards of each table there is. */
  async layouts(): Promise<TableLayoutOf[]> {
    return tableLayouts(this.pool, this.db);
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  async putMonitor(m: Monitor): Promise<void> {
    await this.write(`saving monitor "${m.id}"`, this.table<Monitor>('monitors').insert(m, { conflict: 'replace' }));
  }

  async replaceMonitor(m: Monitor, updatedAt: number): Promise<boolean> {
    return this.replaceIf('monitors', `saving monitor "${m.id}"`, m, updatedAt);
  }

  async getMonitor(id: string): Promise<Monitor | undefined> {
    return (await this.pool.run(`reading monitor "${id}"`, this.table<Monitor>('monitors').get(id))) ?? undefined;
  }

  async listMonitors(): Promise<Monitor[]> {
    return byNameThenId(await this.pool.run('listing monitors', this.table<Monitor>('monitors')));
  }

  /** Through the primary index: an open left bound at `after`, in id order. */
  async monitorsAfter(after: string, limit: number): Promise<Monitor[]> {
    const page = this.table<Monitor>('monitors').between(after, r.maxval, { index: 'id', leftBound: 'open' }).orderBy({ index: 'id' }).limit(limit);
    return this.pool.run(`reading ${limit} monitors after "${after}"`, page);
  }

  async deleteMonitor(id: string): Promise<boolean> {
    const gone = (await this.write(`deleting monitor "${id}"`, this.table('monitors').get(id).delete())).deleted > 0;
    await this.write(`deleting the signal of monitor "${id}"`, this.table('signals').get(id).delete());
    return gone;
  }

  async putReaction(rec: Reaction): Promise<void> {
    await this.write(`saving reaction "${rec.id}"`, this.table<Reaction>('reactions').insert(rec, { conflict: 'replace' }));
  }

  async replaceReaction(rec: Reaction, updatedAt: number): Promise<boolean> {
    return this.replaceIf('reactions', `saving reaction "${rec.id}"`, rec, updatedAt);
  }

  async getReaction(id: string): Promise<Reaction | undefined> {
    return (await this.pool.run(`reading reaction "${id}"`, this.table<Reaction>('reactions').get(id))) ?? undefined;
  }

  async listReactions(): Promise<Reaction[]> {
    return byNameThenId(await this.pool.run('listing reactions', this.table<Reaction>('reactions')));
  }

  async deleteReaction(id: string): Promise<boolean> {
    return (await this.write(`deleting reaction "${id}"`, this.table('reactions').get(id).delete())).deleted > 0;
  }

  async putTarget(t: Target): Promise<void> {
    await this.write(`saving target "${t.name}"`, this.table<TargetDoc>('targets').insert({ ...t, id: t.name }, { conflict: 'replace' }));
  }

  async getTarget(name: string): Promise<Target | undefined> {
    const doc = await this.pool.run(`reading target "${name}"`, this.table<TargetDoc>('targets').get(name));
    return doc ? targetOf(doc) : undefined;
  }

  async listTargets(): Promise<Target[]> {
    return byNameThenId(await this.pool.run('listing targets', this.table<TargetDoc>('targets'))).map(targetOf);
  }

  async deleteTarget(name: string): Promise<boolean> {
    return (await this.write(`deleting target "${name}"`, this.table('targets').get(name).delete())).deleted > 0;
  }

  /** Opens a changefeed on each config table (monitors, reactions, targets) and resolves once the server has answered every one. */
  async follow(): Promise<ChangeFeed> {
    const open = async (kind: FeedSource['kind'], table: TableName): Promise<FeedSource> => {
      const { result, server } = await this.pool.runOn(`opening the change feed of ${this.db}.${table}`, this.table(table).changes());
      return { kind, table, server, cursor: result as RCursor };
    };
    const opened = await Promise.allSettled([open('monitor', 'monitors'), open('reaction', 'reactions'), open('target', 'targets')]);
    const sources = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) {
      await Promise.all(sources.map((s) => s.cursor.close().catch(() => undefined)));
      throw failed.reason;
    }
    return new MergedFeed(sources);
  }

  /** Inserts the batch in one query; a record whose id is stored already keeps its stored value. */
  async addHistory(records: HistoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.write(`writing ${records.length} history records`, this.table<HistoryRecord>('history').insert(records, { conflict: keepStored }));
  }

  async addEvents(records: EventRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.write(`writing ${records.length} events`, this.table<EventRecord>('events').insert(records, { conflict: keepStored }));
  }

  async history(q: HistoryQuery): Promise<HistoryRecord[]> {
    const index = 'monitor_checkedAt';
    const query = this.table<HistoryRecord>('history')
      .between([q.monitorId, q.from ?? r.minval], [q.monitorId, q.to ?? r.maxval], { index, leftBound: 'closed', rightBound: 'closed' })
      .orderBy({ index: r.desc(index) })
      .limit(q.limit ?? DEFAULT_LIMIT);
    return this.pool.run(`reading the history of monitor "${q.monitorId}"`, query);
  }

  /** One query: each span reads its range of the monitor_checkedAt index; the server groups and reduces the buckets. */
  async historyBuckets(q: HistoryBucketsQuery): Promise<HistoryBucket[]> {
    const spans = q.spans.filter((s) => s.to > s.from).map((s) => ({ monitorId: s.monitorId, zone: s.zone ?? null, from: s.from, to: s.to }));
    if (spans.length === 0) return [];
    const n = q.buckets;
    const excluded = Object.fromEntries((q.exclude ?? []).map((id) => [id, true]));
    const pick = (a: RDatum, b: RDatum, lower: boolean) => r.branch(a.eq(null), b, b.eq(null), a, (lower ? a.lt(b) : a.gt(b)), a, b);
    const query = r.expr(spans)
      .concatMap((s: RDatum) => this.table<HistoryRecord>('history')
        .between([s('monitorId'), s('from')], [s('monitorId'), s('to')], { index: 'monitor_checkedAt', rightBound: 'closed' })
        .filter((h: RDatum) => s('zone').eq(null).or(h('zone').eq(s('zone'))).and(r.expr(excluded).hasFields(h('id')).not()))
        .map((h: RDatum) => {
          const bucket = (h('checkedAt') as RDatum<number>).sub(s('from')).mul(n).div((s('to') as RDatum<number>).sub(s('from'))).floor();
          return {
            monitorId: h('monitorId'), zone: h('zone'), bucket: r.branch(bucket.ge(n), n - 1, bucket),
            checks: 1, failed: r.branch(h('status').eq('failed'), 1, 0), minMs: h('latencyMs'), maxMs: h('latencyMs'),
          };
        }))
      .group('monitorId', 'zone', 'bucket')
      .reduce((a: RDatum, b: RDatum) => ({
        checks: a('checks').add(b('checks')), failed: a('failed').add(b('failed')),
        minMs: pick(a('minMs'), b('minMs'), true), maxMs: pick(a('maxMs'), b('maxMs'), false),
      }))
      .ungroup();
    const groups = (await this.pool.run(`summarising the history of ${spans.length} monitors`, query)) as unknown as
      { group: [string, string, number]; reduction: Pick<HistoryBucket, 'checks' | 'failed' | 'minMs' | 'maxMs'> }[];
    return groups.map(({ group: [monitorId, zone, bucket], reduction: { checks, failed, minMs, maxMs } }) => ({ monitorId, zone, bucket, checks, failed, minMs, maxMs }));
  }

  async events(q: EventQuery): Promise<EventRecord[]> {
    const table = this.table<EventRecord>('events');
    const limit = q.limit ?? DEFAULT_LIMIT;
    const [from, to] = [q.since ?? r.minval, q.until ?? r.maxval];
    // The time range walks an index; the other filters are applied to what it walks, newest first.
    const index = q.monitorId === undefined ? 'at' : 'monitor_at';
    const range = q.monitorId === undefined
      ? table.between(from, to, { index, leftBound: 'closed', rightBound: 'closed' })
      : table.between([q.monitorId, from], [q.monitorId, to], { index, leftBound: 'closed', rightBound: 'closed' });
    let query = range.orderBy({ index: r.desc(index) });
    if (q.reactionId !== undefined) query = query.filter({ reactionId: q.reactionId });
    if (q.kind !== undefined) query = query.filter({ kind: q.kind });
    if (q.outcomes !== undefined) query = query.filter((e: RDatum) => r.expr(q.outcomes!).contains(e('outcome').default(null)));
    return this.pool.run(q.monitorId === undefined ? 'reading events' : `reading the events of monitor "${q.monitorId}"`, query.limit(limit));
  }

  async putZoneViews(views: ZoneView[]): Promise<void> {
    await putZoneViews(this.pool, this.db, views);
  }

  async zoneViews(q: ZoneViewQuery): Promise<ZoneView[]> {
    return zoneViews(this.pool, this.db, q);
  }

  async putSignals(list: MonitorSignal[]): Promise<void> {
    await putSignals(this.pool, this.db, list);
  }

  async signals(q: { since?: number; monitorId?: string }): Promise<StoredSignal[]> {
    return signals(this.pool, this.db, q);
  }

  async claimReaction(claim: ReactionClaim): Promise<ClaimVerdict> {
    return claimReaction(this.pool, this.db, claim);
  }

  async putApiKey(key: ApiKey): Promise<void> {
    await this.write(`saving API key "${key.id}"`, this.table<ApiKey>('api_keys').insert(key, { conflict: 'replace' }));
  }

  async apiKeyByHash(hash: string): Promise<ApiKey | undefined> {
    const found = await this.pool.run('looking up an API key', this.table<ApiKey>('api_keys').getAll(hash, { index: 'hash' }).limit(1));
    return found[0];
  }

  async listApiKeys(): Promise<ApiKey[]> {
    return byNameThenId(await this.pool.run('listing API keys', this.table<ApiKey>('api_keys')));
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return (await this.write(`deleting API key "${id}"`, this.table('api_keys').get(id).delete())).deleted > 0;
  }

  private table<T = unknown>(name: TableName) {
    return r.db(this.db).table<T>(name);
  }

  /** Runs a write and turns the per-document errors RethinkDB reports in its result into CR_STORE. */
  /** Replaces document `doc` only while the stored one's updatedAt is `updatedAt`; the server decides in one atomic write. */
  private async replaceIf(table: 'monitors' | 'reactions', op: string, doc: Monitor | Reaction, updatedAt: number): Promise<boolean> {
    const unlessChanged = (row: RDatum<Monitor | Reaction | null>) =>
      r.branch(row.eq(null), null, r.branch((row as RDatum<Monitor | Reaction>)('updatedAt').eq(updatedAt), doc, row));
    const q = this.table<Monitor | Reaction>(table).get(doc.id).replace(unlessChanged);
    return (await this.write(op, q)).replaced === 1;
  }

  private async write(op: string, q: Parameters<RethinkPool['run']>[1]): Promise<WriteResult> {
    const result = (await this.pool.run(op, q)) as WriteResult;
    if (result.errors > 0) {
      // The server answered and turned down these documents: the records are at fault, not the store.
      throw errors.storeRefused(`${op} on RethinkDB ${this.pool.where} failed for ${result.errors} record(s) (${result.first_error ?? 'no reason given'})`);
    }
    return result;
  }
}

/** SQLite lists by name then id; RethinkDB has no order without an index, so sort here (config tables are small). */
function byNameThenId<T extends { name: string; id: string }>(rows: T[]): T[] {
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort((a, b) => cmp(a.name, b.name) || cmp(a.id, b.id));
}

/** The embedded store of record: one SQLite file (WAL) with a change log written with every config change. */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { errors } from '../core/errors.js';
import type { EventRecord, HistoryRecord, Monitor, Reaction, Status, Target } from '../core/types.js';
import { pollingFeed } from './polling-feed.js';
import type { ApiKey, ChangeFeed, ConfigChange, EventQuery, HistoryBucket, HistoryBucketsQuery, HistoryQuery, MonitorSignal, ReactionClaim, ClaimVerdict, Store, StoredSignal, ZoneView, ZoneViewQuery } from './store.js';

/** One row of the change log, written in the same transaction as the change. */
export interface Change {
  seq: number;
  kind: ConfigChange['kind'];
  id: string;
  op: 'upsert' | 'delete';
}

/** Every statement is idempotent and runs at each open, so an older file gains what it lacks (new tables, indexes). */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS monitors (id TEXT PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reactions (id TEXT PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS targets (id TEXT PRIMARY KEY, name TEXT NOT NULL, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, id TEXT NOT NULL, op TEXT NOT NULL, at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS history (
  id TEXT PRIMARY KEY, monitorId TEXT NOT NULL, zone TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
  latencyMs REAL, checkedAt INTEGER NOT NULL, due INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS history_monitor_time ON history (monitorId, checkedAt);
CREATE TABLE IF NOT EXISTS events (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, monitorId TEXT NOT NULL, zone TEXT NOT NULL, at INTEGER NOT NULL,
  status TEXT NOT NULL, previousStatus TEXT, failcount INTEGER NOT NULL, reactionId TEXT, outcome TEXT, message TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_monitor_time ON events (monitorId, at);
CREATE TABLE IF NOT EXISTS zone_views (
  monitorId TEXT NOT NULL, zone TEXT NOT NULL, status TEXT NOT NULL, failcount INTEGER NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (monitorId, zone));
CREATE INDEX IF NOT EXISTS zone_views_at ON zone_views (at);
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, readOnly INTEGER NOT NULL, createdAt INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reaction_runs (
  monitorId TEXT NOT NULL, reactionId TEXT NOT NULL, lastrun INTEGER NOT NULL, status TEXT NOT NULL,
  PRIMARY KEY (monitorId, reactionId));
CREATE TABLE IF NOT EXISTS target_runs (target TEXT NOT NULL, at INTEGER NOT NULL, monitorId TEXT NOT NULL, reactionId TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS target_runs_at ON target_runs (target, at);
CREATE TABLE IF NOT EXISTS signals (
  monitorId TEXT PRIMARY KEY, zone TEXT NOT NULL, at INTEGER NOT NULL, status TEXT NOT NULL, message TEXT,
  storedAt INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS signals_stored ON signals (storedAt);
`;

const DEFAULT_LIMIT = 1000;

/** Columns added since a table was first made: a file made by an earlier version gains them when opened. */
const ADDED_COLUMNS: [table: string, column: string, type: string][] = [
  ['reaction_runs', 'runs', "TEXT NOT NULL DEFAULT '[]'"],
  ['events', 'reason', 'TEXT'],
  ['events', 'episode', 'INTEGER'],
  ['events', 'due', 'INTEGER'],
  ['events', 'tookMs', 'INTEGER'],
];

function addMissingColumns(db: Database.Database): void {
  for (const [table, column, type] of ADDED_COLUMNS) {
    const have = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
    if (!have) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/** Creates `file` empty with mode 0600 unless it exists (SQLite takes an empty file for a new database). */
function createPrivate(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

type Nullable<T> = { [K in keyof T]-?: T[K] | null };
type EventRow = Omit<EventRecord, 'reactionId' | 'outcome' | 'reason' | 'episode' | 'due' | 'tookMs'> & Nullable<Pick<EventRecord, 'reactionId' | 'outcome' | 'reason' | 'episode' | 'due' | 'tookMs'>>;

export interface SqliteOptions {
  /** How long a write waits for another connection's lock before failing (ms). */
  busyTimeoutMs?: number;
  /** How often a change feed polls the change log (ms). */
  pollMs?: number;
}

/** True when SQLite turned down the values written (a constraint, a type, a size), not the file or a lock. */
function refusesTheRecord(code: string, err: unknown): boolean {
  // better-sqlite3 throws TypeError or RangeError for a value it cannot bind, before SQLite sees it.
  return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG' || code === 'SQLITE_RANGE'
    || err instanceof TypeError || err instanceof RangeError;
}

/** Store of record in one SQLite file; `file` may be `:memory:`. */
export class SqliteStore implements Store {
  private db: Database.Database | undefined;

  constructor(readonly file: string, private readonly opts: SqliteOptions = {}) {}

  async init(): Promise<void> {
    if (this.db) return;
    if (this.file !== ':memory:') {
      try {
        mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
        // A new file is made 0600 here, as SQLite would make it 0644; its -wal and -shm files take its mode.
        createPrivate(this.file);
      } catch (err) {
        throw errors.store(`cannot create ${this.file} or its folder (${(err as Error).message}); set CLOUDROUTES_STORE=sqlite:<path> to a writable location`);
      }
    }
    let db: Database.Database | undefined;
    try {
      db = new Database(this.file);
      db.pragma(`busy_timeout = ${this.opts.busyTimeoutMs ?? 5000}`);
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA);
      addMissingColumns(db);
    } catch (err) {
      db?.close();
      throw this.failure('opening', err);
    }
    this.db = db;
  }

  /** The embedded store creates its schema on init(); nothing else can be missing. */
  async verify(): Promise<void> {
    this.run('checking the schema', () => undefined);
  }

  async follow(): Promise<ChangeFeed> {
    let cursor = await this.lastChange();
    return pollingFeed(async () => {
      const changes = await this.changesSince(cursor);
      if (changes.length) cursor = changes[changes.length - 1]!.seq;
      return changes.map(({ kind, id }) => ({ kind, id }));
    }, this.opts.pollMs ?? 500);
  }

  async close(): Promise<void> {
    this.db?.close();
    this.db = undefined;
  }

  async putMonitor(m: Monitor): Promise<void> {
    this.put('monitor', 'monitors', m.id, m.name, m);
  }

  async replaceMonitor(m: Monitor, updatedAt: number): Promise<boolean> {
    return this.replace('monitor', 'monitors', m, updatedAt);
  }

  async getMonitor(id: string): Promise<Monitor | undefined> {
    return this.getRecord<Monitor>('monitors', id);
  }

  async listMonitors(): Promise<Monitor[]> {
    return this.listRecords<Monitor>('monitors');
  }

  async monitorsAfter(after: string, limit: number): Promise<Monitor[]> {
    const rows = this.run('reading monitors', (db) =>
      db.prepare('SELECT json FROM monitors WHERE id > ? ORDER BY id LIMIT ?').all(after, limit) as { json: string }[]);
    return rows.map((r) => JSON.parse(r.json) as Monitor);
  }

  async deleteMonitor(id: string): Promise<boolean> {
    return this.remove('monitor', 'monitors', id, (db) => db.prepare('DELETE FROM signals WHERE monitorId = ?').run(id));
  }

  async putReaction(r: Reaction): Promise<void> {
    this.put('reaction', 'reactions', r.id, r.name, r);
  }

  async replaceReaction(r: Reaction, updatedAt: number): Promise<boolean> {
    return this.replace('reaction', 'reactions', r, updatedAt);
  }

  async getReaction(id: string): Promise<Reaction | undefined> {
    return this.getRecord<Reaction>('reactions', id);
  }

  async listReactions(): Promise<Reaction[]> {
    return this.listRecords<Reaction>('reactions');
  }

  async deleteReaction(id: string): Promise<boolean> {
    return this.remove('reaction', 'reactions', id);
  }

  /** A target's row is keyed by its name, as the change log names it. */
  async putTarget(t: Target): Promise<void> {
    this.put('target', 'targets', t.name, t.name, t);
  }

  async getTarget(name: string): Promise<Target | undefined> {
    return this.getRecord<Target>('targets', name);
  }

  async listTargets(): Promise<Target[]> {
    return this.listRecords<Target>('targets');
  }

  async deleteTarget(name: string): Promise<boolean> {
    return this.remove('target', 'targets', name);
  }

  async changesSince(seq: number, limit = DEFAULT_LIMIT): Promise<Change[]> {
    return this.run('reading the change log', (db) =>
      db.prepare('SELECT seq, kind, id, op FROM changes WHERE seq > ? ORDER BY seq LIMIT ?').all(seq, limit) as Change[]);
  }

  async lastChange(): Promise<number> {
    return this.run('reading the change log', (db) =>
      (db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM changes').get() as { seq: number }).seq);
  }

  async putZoneViews(views: ZoneView[]): Promise<void> {
    if (views.length === 0) return;
    this.run('writing zone views', (db) => {
      const upsert = db.prepare(
        `INSERT INTO zone_views (monitorId, zone, status, failcount, at) VALUES (@monitorId, @zone, @status, @failcount, @at)
         ON CONFLICT (monitorId, zone) DO UPDATE SET status = excluded.status, failcount = excluded.failcount, at = excluded.at
         WHERE excluded.at > zone_views.at`);
      db.transaction(() => {
        for (const v of views) upsert.run(v);
      })();
    });
  }

  async zoneViews(q: ZoneViewQuery): Promise<ZoneView[]> {
    const where = ['at >= @since'];
    if (q.monitorId !== undefined) where.push('monitorId = @monitorId');
    if (q.monitorIds !== undefined) where.push('monitorId IN (SELECT value FROM json_each(@monitorIds))');
    if (q.otherThan !== undefined) where.push('zone != @otherThan');
    return this.run('reading zone views', (db) =>
      db.prepare(`SELECT * FROM zone_views WHERE ${where.join(' AND ')}`)
        .all({ since: q.since ?? 0, monitorId: q.monitorId, monitorIds: JSON.stringify(q.monitorIds ?? []), otherThan: q.otherThan }) as ZoneView[]);
  }

  async putSignals(signals: MonitorSignal[]): Promise<void> {
    if (signals.length === 0) return;
    this.run('writing signals', (db) => {
      const upsert = db.prepare(
        `INSERT INTO signals (monitorId, zone, at, status, message, storedAt) VALUES (@monitorId, @zone, @at, @status, @message, @storedAt)
         ON CONFLICT (monitorId) DO UPDATE SET zone = excluded.zone, at = excluded.at, status = excluded.status,
           message = excluded.message, storedAt = excluded.storedAt
         WHERE excluded.at > signals.at`);
      const storedAt = Date.now();
      db.transaction(() => {
        for (const s of signals) upsert.run({ monitorId: s.monitorId, zone: s.zone, at: s.at, status: s.status, message: s.message ?? null, storedAt });
      })();
    });
  }

  async signals(q: { since?: number; monitorId?: string }): Promise<StoredSignal[]> {
    const rows = this.run('reading signals', (db) =>
      (q.monitorId
        ? db.prepare('SELECT * FROM signals WHERE monitorId = ? AND storedAt >= ?').all(q.monitorId, q.since ?? 0)
        : db.prepare('SELECT * FROM signals WHERE storedAt >= ?').all(q.since ?? 0)) as (StoredSignal & { message: string | null })[]);
    return rows.map(({ message, ...s }) => (message === null ? s : { ...s, message }));
  }

  async claimReaction(c: ReactionClaim): Promise<ClaimVerdict> {
    return this.run('claiming a reaction run', (db) => {
      // One write transaction, taken before reading: two zones' sinks (two processes) cannot both pass the checks.
      const claim = db.transaction((): ClaimVerdict => {
        const row = db.prepare('SELECT lastrun, runs FROM reaction_runs WHERE monitorId = ? AND reactionId = ?').get(c.monitorId, c.reactionId) as
          { lastrun: number; runs: string } | undefined;
        if (row && c.once && row.lastrun >= c.episodeStart) return 'once';
        if (row && row.lastrun > c.now - c.frequencyMs) return 'frequency';
        let runs = row ? (JSON.parse(row.runs) as number[]) : [];
        if (c.budget) {
          runs = runs.filter((t) => t > c.now - c.budget!.perMs);
          if (runs.length >= c.budget.maxRuns) return 'budget';
        }
        if (c.target) {
          db.prepare('DELETE FROM target_runs WHERE target = ? AND at <= ?').run(c.target.name, c.now - c.target.perMs);
          const { n } = db.prepare('SELECT COUNT(*) AS n FROM target_runs WHERE target = ?').get(c.target.name) as { n: number };
          if (n >= c.target.maxRuns) return 'target-budget';
          db.prepare('INSERT INTO target_runs (target, at, monitorId, reactionId) VALUES (?, ?, ?, ?)').run(c.target.name, c.now, c.monitorId, c.reactionId);
        }
        db.prepare(
          `INSERT INTO reaction_runs (monitorId, reactionId, lastrun, status, runs) VALUES (@monitorId, @reactionId, @now, @status, @runs)
           ON CONFLICT (monitorId, reactionId) DO UPDATE SET lastrun = excluded.lastrun, status = excluded.status, runs = excluded.runs`,
        ).run({ monitorId: c.monitorId, reactionId: c.reactionId, now: c.now, status: c.status, runs: JSON.stringify(c.budget ? [c.now, ...runs] : []) });
        return 'run';
      });
      return claim.immediate();
    });
  }

  async putApiKey(k: ApiKey): Promise<void> {
    this.run('saving an API key', (db) =>
      db.prepare('INSERT OR REPLACE INTO api_keys (id, name, hash, readOnly, createdAt) VALUES (?, ?, ?, ?, ?)').run(k.id, k.name, k.hash, k.readOnly ? 1 : 0, k.createdAt));
  }

  async apiKeyByHash(hash: string): Promise<ApiKey | undefined> {
    const row = this.run('reading an API key', (db) => db.prepare('SELECT * FROM api_keys WHERE hash = ?').get(hash)) as (Omit<ApiKey, 'readOnly'> & { readOnly: number }) | undefined;
    return row && { ...row, readOnly: row.readOnly === 1 };
  }

  async listApiKeys(): Promise<ApiKey[]> {
    const rows = this.run('listing API keys', (db) => db.prepare('SELECT * FROM api_keys ORDER BY name, id').all()) as (Omit<ApiKey, 'readOnly'> & { readOnly: number })[];
    return rows.map((row) => ({ ...row, readOnly: row.readOnly === 1 }));
  }

  async deleteApiKey(id: string): Promise<boolean> {
    return this.run('deleting an API key', (db) => db.prepare('DELETE FROM api_keys WHERE id = ?').run(id).changes === 1);
  }

  async addHistory(records: HistoryRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.run('writing history', (db) => {
      const insert = db.prepare(
        `INSERT OR IGNORE INTO history (id, monitorId, zone, status, message, latencyMs, checkedAt, due)
         VALUES (@id, @monitorId, @zone, @status, @message, @latencyMs, @checkedAt, @due)`);
      db.transaction(() => {
        for (const r of records) {
          insert.run({ id: r.id, monitorId: r.monitorId, zone: r.zone, status: r.status, message: r.message,
            latencyMs: r.latencyMs, checkedAt: r.checkedAt, due: r.due });
        }
      })();
    });
  }

  async addEvents(records: EventRecord[]): Promise<void> {
    if (records.length === 0) return;
    this.run('writing events', (db) => {
      const insert = db.prepare(
        `INSERT OR IGNORE INTO events (id, kind, monitorId, zone, at, status, previousStatus, failcount, reactionId, outcome, reason, episode, due, tookMs, message)
         VALUES (@id, @kind, @monitorId, @zone, @at, @status, @previousStatus, @failcount, @reactionId, @outcome, @reason, @episode, @due, @tookMs, @message)`);
      db.transaction(() => {
        for (const e of records) {
          insert.run({ id: e.id, kind: e.kind, monitorId: e.monitorId, zone: e.zone, at: e.at, status: e.status,
            previousStatus: e.previousStatus, failcount: e.failcount, reactionId: e.reactionId ?? null,
            outcome: e.outcome ?? null, reason: e.reason ?? null, episode: e.episode ?? null, due: e.due ?? null, tookMs: e.tookMs ?? null, message: e.message });
        }
      })();
    });
  }

  async history(q: HistoryQuery): Promise<HistoryRecord[]> {
    return this.run('reading history', (db) =>
      db.prepare(
        `SELECT id, monitorId, zone, status, message, latencyMs, checkedAt, due FROM history
         WHERE monitorId = ? AND checkedAt >= ? AND checkedAt <= ? ORDER BY checkedAt DESC, rowid DESC LIMIT ?`,
      ).all(q.monitorId, q.from ?? Number.MIN_SAFE_INTEGER, q.to ?? Number.MAX_SAFE_INTEGER, q.limit ?? DEFAULT_LIMIT) as HistoryRecord[]);
  }

  /** One statement: each span walks the (monitorId, checkedAt) index over its range (CROSS JOIN keeps the spans outer). */
  async historyBuckets(q: HistoryBucketsQuery): Promise<HistoryBucket[]> {
    const spans = q.spans.filter((s) => s.to > s.from).map((s) => ({ monitorId: s.monitorId, zone: s.zone ?? null, from: s.from, to: s.to }));
    if (spans.length === 0) return [];
    return this.run('summarising history', (db) =>
      db.prepare(
        `WITH spans AS (
           SELECT json_extract(value, '$.monitorId') AS monitorId, json_extract(value, '$.zone') AS zone,
                  json_extract(value, '$.from') AS fromMs, json_extract(value, '$.to') AS toMs FROM json_each(@spans))
         SELECT h.monitorId, h.zone, MIN(@buckets - 1, CAST((h.checkedAt - s.fromMs) * @buckets / (s.toMs - s.fromMs) AS INTEGER)) AS bucket,
                COUNT(*) AS checks, SUM(h.status = 'failed') AS failed, MIN(h.latencyMs) AS minMs, MAX(h.latencyMs) AS maxMs
         FROM spans s CROSS JOIN history h
         WHERE h.monitorId = s.monitorId AND h.checkedAt >= s.fromMs AND h.checkedAt <= s.toMs
           AND (s.zone IS NULL OR h.zone = s.zone) AND h.id NOT IN (SELECT value FROM json_each(@exclude))
         GROUP BY h.monitorId, h.zone, bucket`,
      ).all({ spans: JSON.stringify(spans), buckets: q.buckets, exclude: JSON.stringify(q.exclude ?? []) }) as HistoryBucket[]);
  }

  async events(q: EventQuery): Promise<EventRecord[]> {
    const rows = this.run('reading events', (db) => {
      const where = [
        q.monitorId !== undefined && 'monitorId = @monitorId', q.reactionId !== undefined && 'reactionId = @reactionId', q.kind !== undefined && 'kind = @kind',
        q.outcomes !== undefined && 'outcome IN (SELECT value FROM json_each(@outcomes))', q.since !== undefined && 'at >= @since', q.until !== undefined && 'at <= @until',
      ].filter(Boolean);
      return db.prepare(`SELECT * FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, rowid DESC LIMIT @limit`)
        .all({ monitorId: q.monitorId, reactionId: q.reactionId, kind: q.kind, outcomes: JSON.stringify(q.outcomes ?? []), since: q.since, until: q.until, limit: q.limit ?? DEFAULT_LIMIT }) as EventRow[];
    });
    return rows.map(({ reactionId, outcome, reason, episode, due, tookMs, ...e }) => ({
      ...e,
      previousStatus: (e.previousStatus ?? null) as Status | null,
      ...(reactionId === null ? {} : { reactionId }),
      ...(outcome === null ? {} : { outcome }),
      ...(reason === null ? {} : { reason }),
      ...(episode === null ? {} : { episode }),
      ...(due === null ? {} : { due }),
      ...(tookMs === null ? {} : { tookMs }),
    }));
  }

  private put(kind: Change['kind'], table: string, id: string, name: string, record: Monitor | Reaction | Target): void {
    this.run(`saving ${kind} "${id}"`, (db) => {
      db.transaction(() => {
        db.prepare(`INSERT INTO ${table} (id, name, json) VALUES (?, ?, ?)
                    ON CONFLICT(id) DO UPDATE SET name = excluded.name, json = excluded.json`).run(id, name, JSON.stringify(record));
        this.logChange(db, kind, id, 'upsert');
      })();
    });
  }

  private replace(kind: Change['kind'], table: string, record: Monitor | Reaction, updatedAt: number): boolean {
    return this.run(`saving ${kind} "${record.id}"`, (db) =>
      db.transaction(() => {
        // One statement: a writer in another process cannot slip in between the comparison and the write.
        const done = db.prepare(`UPDATE ${table} SET name = ?, json = ? WHERE id = ? AND json_extract(json, '$.updatedAt') = ?`)
          .run(record.name, JSON.stringify(record), record.id, updatedAt).changes === 1;
        if (done) this.logChange(db, kind, record.id, 'upsert');
        return done;
      })());
  }

  private remove(kind: Change['kind'], table: string, id: string, also?: (db: Database.Database) => unknown): boolean {
    return this.run(`deleting ${kind} "${id}"`, (db) =>
      db.transaction(() => {
        const gone = db.prepare(`DELETE FROM ${table} WHERE id = ?`).run(id).changes > 0;
        also?.(db);
        if (gone) this.logChange(db, kind, id, 'delete');
        return gone;
      })());
  }

  private logChange(db: Database.Database, kind: Change['kind'], id: string, op: Change['op']): void {
    db.prepare('INSERT INTO changes (kind, id, op, at) VALUES (?, ?, ?, ?)').run(kind, id, op, Date.now());
  }

  private getRecord<T>(table: string, id: string): T | undefined {
    const row = this.run(`reading ${table}`, (db) => db.prepare(`SELECT json FROM ${table} WHERE id = ?`).get(id) as { json: string } | undefined);
    return row ? (JSON.parse(row.json) as T) : undefined;
  }

  private listRecords<T>(table: string): T[] {
    const rows = this.run(`reading ${table}`, (db) => db.prepare(`SELECT json FROM ${table} ORDER BY name, id`).all() as { json: string }[]);
    return rows.map((r) => JSON.parse(r.json) as T);
  }

  private run<T>(what: string, fn: (db: Database.Database) => T): T {
    if (!this.db) throw errors.store(`${this.file} is not open; call init() first`);
    try {
      return fn(this.db);
    } catch (err) {
      throw this.failure(what, err);
    }
  }

  private failure(what: string, err: unknown): Error {
    const code = (err as { code?: string }).code ?? '';
    if (refusesTheRecord(code, err)) {
      const e = errors.storeRefused(`${what} (SQLite file ${this.file}) failed (${code ? `${code}: ` : ''}${(err as Error).message})`);
      (e as Error & { cause?: unknown }).cause = err;
      return e;
    }
    const hint = code.startsWith('SQLITE_BUSY')
      ? 'another process holds a lock on it; retry, or stop the other process'
      : code === 'SQLITE_CANTOPEN'
        ? 'check the path exists, is a file (not a folder) and is writable, or set CLOUDROUTES_STORE=sqlite:<path>'
        : code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB'
          ? 'the file is not a healthy SQLite database; restore it from a backup or point CLOUDROUTES_STORE elsewhere'
          : 'check the file is writable and the disk is not full';
    const e = errors.store(`${what} (SQLite file ${this.file}) failed (${code ? `${code}: ` : ''}${(err as Error).message}); ${hint}`);
    (e as Error & { cause?: unknown }).cause = err;
    return e;
  }
}

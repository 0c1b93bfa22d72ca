/** Cross-zone state in RethinkDB: each zone's latest view of a monitor, told monitors' signals, and the atomic claim on a reaction run. */
import { randomUUID } from 'node:crypto';
import { r, type RDatum, type WriteResult } from 'rethinkdb-ts';
import { errors } from '../core/errors.js';
import type { RethinkPool } from './rethinkdb-pool.js';
import type { MonitorSignal, ReactionClaim, ClaimVerdict, StoredSignal, ZoneView, ZoneViewQuery } from './store.js';

interface ViewDoc extends ZoneView {
  id: string;
}

interface RunDoc {
  id: string;
  monitorId: string;
  reactionId: string;
  lastrun: number;
  status: string;
  /** New on every granted claim, so a granted claim always changes the document (and counts as replaced). */
  claim: string;
  /** Run times inside the reaction's budget window, newest first (absent in records written before budgets). */
  runs?: number[];
}

/** Primary key of a (monitor, zone) or (monitor, reaction) pair; JSON keeps any id unambiguous. */
const pairKey = (a: string, b: string) => JSON.stringify([a, b]);

/** Saves views in one query; per monitor and zone the stored view is replaced only by a newer `at`. */
export async function putZoneViews(pool: RethinkPool, db: string, views: ZoneView[]): Promise<void> {
  if (views.length === 0) return;
  const docs: ViewDoc[] = views.map((v) => ({ ...v, id: pairKey(v.monitorId, v.zone) }));
  const q = r.db(db).table<ViewDoc>('zone_views').insert(docs, {
    conflict: (_id: RDatum, old: RDatum, next: RDatum) => r.branch(next('at').gt(old('at')), next, old),
  });
  const result = (await pool.run(`writing ${views.length} zone views`, q)) as WriteResult;
  if (result.errors > 0) throw errors.store(`writing zone views on RethinkDB ${pool.where} failed (${result.first_error}); check the RethinkDB server logs`);
}

/** Views with at >= since (all by default), optionally of some monitors, through the at / monitor_at indexes. */
export async function zoneViews(pool: RethinkPool, db: string, q: ZoneViewQuery): Promise<ZoneView[]> {
  const table = r.db(db).table<ViewDoc>('zone_views');
  const since = q.since ?? r.minval;
  const ids = q.monitorId === undefined ? q.monitorIds : (q.monitorIds ?? [q.monitorId]).filter((id) => id === q.monitorId);
  const ofMonitor = (id: RDatum | string) => table.between([id, since], [id, r.maxval], { index: 'monitor_at', rightBound: 'closed' });
  const range = ids === undefined
    ? table.between(since, r.maxval, { index: 'at', rightBound: 'closed' })
    : ids.length === 1 ? ofMonitor(ids[0]!) : r.expr(ids).concatMap(ofMonitor);
  const otherThan = q.otherThan;
  const query = otherThan === undefined ? range : range.filter((v: RDatum) => v('zone').ne(otherThan));
  const what = q.monitorId !== undefined ? `the zone views of monitor "${q.monitorId}"` : ids ? `the zone views of ${ids.length} monitors` : 'zone views';
  const docs = (await pool.run(`reading ${what}`, query)) as ViewDoc[];
  return docs.map(({ id: _id, ...view }) => view);
}

interface SignalDoc extends StoredSignal {
  /** The monitor id. */
  id: string;
}

/** Saves signals in one query; per monitor the stored signal is replaced only by a newer `at`. */
export async function putSignals(pool: RethinkPool, db: string, signals: MonitorSignal[]): Promise<void> {
  if (signals.length === 0) return;
  // The server's clock, so every zone's `since` window agrees with it whatever the bridges' clocks say.
  const storedAt = r.now().toEpochTime().mul(1000).floor();
  const docs = signals.map((s) => ({ ...s, id: s.monitorId, storedAt }));
  const q = r.db(db).table<SignalDoc>('signals').insert(docs as unknown as SignalDoc[], {
    conflict: (_id: RDatum, old: RDatum, next: RDatum) => r.branch(next('at').gt(old('at')), next, old),
  });
  const result = (await pool.run(`writing ${signals.length} signals`, q)) as WriteResult;
  if (result.errors > 0) throw errors.store(`writing signals on RethinkDB ${pool.where} failed (${result.first_error}); check the RethinkDB server logs`);
}

/** Signals with storedAt >= since (all by default), through the storedAt index, or the one of a monitor. */
export async function signals(pool: RethinkPool, db: string, q: { since?: number; monitorId?: string }): Promise<StoredSignal[]> {
  const table = r.db(db).table<SignalDoc>('signals');
  if (q.monitorId !== undefined) {
    const doc = await pool.run(`reading the signal of monitor "${q.monitorId}"`, table.get(q.monitorId));
    return doc && doc.storedAt >= (q.since ?? 0) ? [withoutId(doc)] : [];
  }
  const docs = await pool.run('reading signals', table.between(q.since ?? r.minval, r.maxval, { index: 'storedAt', rightBound: 'closed' }));
  return docs.map(withoutId);
}

const withoutId = ({ id: _id, ...signal }: SignalDoc): StoredSignal => signal;

/** A run recorded in a target's budget: its time, and the claim that took it (so a claim refused after can give it back). */
interface TargetRun {
  at: number;
  claim: string;
}

interface TargetDoc {
  id: string;
  target: string;
  runs: TargetRun[];
}

/** Why the run record `old` (as it was before the claim) held the claim back, or 'run'. */
function verdictOf(c: ReactionClaim, old: RunDoc | null | undefined): ClaimVerdict {
  if (!old) return 'run';
  if (c.once && old.lastrun >= c.episodeStart) return 'once';
  if (old.lastrun > c.now - c.frequencyMs) return 'frequency';
  if (c.budget && (old.runs ?? []).filter((t) => t > c.now - c.budget!.perMs).length >= c.budget.maxRuns) return 'budget';
  return 'run';
}

/**
 * The target's budget first (one atomic write of its document), then one atomic read-modify-write of the (monitor,
 * reaction) run record: granted when the last run is at least frequencyMs ago, for a once-reaction before
 * episodeStart, and with a run left in its budget; a granted claim records now. A claim the run record refuses gives
 * its target run back. The target is claimed first so that a race can only hold a run back, never add one.
 */
export async function claimReaction(pool: RethinkPool, db: string, c: ReactionClaim): Promise<ClaimVerdict> {
  const claim = randomUUID();
  const table = r.db(db).table('reaction_runs');
  const where = `claiming reaction "${c.reactionId}" for monitor "${c.monitorId}"`;
  const failed = (result: WriteResult) => {
    if (result.errors > 0) throw errors.store(`${where} on RethinkDB ${pool.where} failed (${result.first_error}); check the RethinkDB server logs`);
  };
  let targetId: string | undefined;
  if (c.target) {
    const t = c.target;
    targetId = `target:${t.name}`;
    const fresh: TargetDoc = { id: targetId, target: t.name, runs: [{ at: c.now, claim }] };
    const recent = (old: RDatum) => old('runs').default([]).filter((run: RDatum) => run('at').gt(c.now - t.perMs));
    const q = table.get(targetId).replace((old: RDatum) =>
      r.branch(old.eq(null), fresh, recent(old).count().lt(t.maxRuns), old.merge({ runs: recent(old).append({ at: c.now, claim }) }), old));
    const result = (await pool.run(`${where} (target "${t.name}")`, q)) as WriteResult;
    failed(result);
    if (result.inserted + result.replaced !== 1) return 'target-budget';
  }
  const budget = c.budget;
  const recent = (old: RDatum) => (budget ? old('runs').default([]).filter((t: RDatum) => t.gt(c.now - budget.perMs)) : r.expr([]));
  const doc: RunDoc = { id: pairKey(c.monitorId, c.reactionId), monitorId: c.monitorId, reactionId: c.reactionId, lastrun: c.now, status: c.status, claim, runs: budget ? [c.now] : [] };
  const allowed = (old: RDatum) => {
    let ok = old('lastrun').le(c.now - c.frequencyMs);
    if (c.once) ok = ok.and(old('lastrun').lt(c.episodeStart));
    return budget ? ok.and(recent(old).count().lt(budget.maxRuns)) : ok;
  };
  const q = table.get(doc.id).replace((old: RDatum) =>
    r.branch(old.eq(null), doc, allowed(old), r.expr(doc).merge({ runs: budget ? recent(old).prepend(c.now) : [] }), old), { returnChanges: 'always' });
  const result = (await pool.run(where, q)) as WriteResult & { changes?: { old_val: RunDoc | null }[] };
  failed(result);
  if (result.inserted + result.replaced === 1) return 'run';
  const verdict = verdictOf(c, result.changes?.[0]?.old_val);
  if (targetId) {
    const giveBack = table.get(targetId).update((old: RDatum) => ({ runs: old('runs').filter((run: RDatum) => run('claim').ne(claim)) }));
    failed((await pool.run(`${where} (giving its target run back)`, giveBack)) as WriteResult);
  }
  return verdict === 'run' ? 'frequency' : verdict;
}

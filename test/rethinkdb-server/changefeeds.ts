/**
 * Changefeeds. What the real server does, and this one copies:
 * - The START of a feed is answered at once with SUCCESS_PARTIAL (possibly empty) and the note SEQUENCE_FEED
 *   (ATOM_FEED for `get(k).changes()`); every CONTINUE is answered with SUCCESS_PARTIAL, held until there is
 *   something to send; a STOP ends it with an empty SUCCESS_SEQUENCE.
 * - include_initial sends the current rows first as {new_val} (a point feed sends {new_val: null} for a
 *   missing row); include_states wraps them in {state: 'initializing'} ... {state: 'ready'} (just
 *   {state: 'ready'} without include_initial); include_types adds `type` (initial, add, change, remove, state).
 * - orderBy({index}).changes() is an ordinary feed; a limit (without order) or skip before changes is refused.
 * - A change is {new_val, old_val}, after the feed's filter/map: a row leaving a filter gives new_val null,
 *   a change outside the selection gives nothing.
 * - squash: true merges the pending changes of each document; a number also waits that many seconds first.
 * - Up to changefeed_queue_size (default 100,000) changes wait for the client; past that the queue is dropped
 *   and the next batch is one {error: "Changefeed cache over array size limit, skipped N elements."}.
 * - Nothing is replayed: changes made while no feed was open are gone.
 */
import { asInt, type Datum, type DObject, equal, toJson, truthy } from './datum.js';
import { type Call, defineTerms, type TermDef } from './evaluator.js';
import { logicError, notImplemented, opFailed, type ReqlError } from './errors.js';
import { ResponseNote, T } from './protocol.js';
import type { TableListener } from './store.js';
import { asSeq, type FeedOptions, type FeedRequest, isSequence, type Val } from './values.js';

// The server's default changefeed queue size (the `changefeed_queue_size` optarg changes it).
const QUEUE_SIZE = 100000;
const BATCH_BYTES = 1024 * 1024;

function options(c: Call): FeedOptions {
  const squash = c.optDatum('squash') ?? false;
  if (typeof squash === 'number' && squash < 0) throw logicError('Expected BOOL or a positive NUMBER but found a negative NUMBER.');
  if (typeof squash !== 'number' && typeof squash !== 'boolean') throw logicError(`Expected BOOL or NUMBER but found ${typeof squash}.`);
  if (c.optBool('include_offsets', false)) throw notImplemented('include_offsets (for order_by.limit feeds)');
  const size = c.optDatum('changefeed_queue_size');
  const queueSize = size === undefined ? QUEUE_SIZE : asInt(size);
  if (queueSize < 1) throw logicError(`Illegal changefeed queue size \`${queueSize}\`.  (Must be >= 1.)`);
  return {
    includeInitial: c.optBool('include_initial', false),
    includeStates: c.optBool('include_states', false),
    includeTypes: c.optBool('include_types', false),
    squash: typeof squash === 'number' ? squash : truthy(squash),
    queueSize,
  };
}

function changes(c: Call): Val {
  const opts = options(c);
  const v = c.arg(0);
  if (v.t === 'single') {
    const { table, key } = v;
    const transform = (row: DObject): Datum | undefined => (equal(row[table.pk], key) ? row : undefined);
    return { t: 'feed', feed: { kind: 'point', table, transform, initial: [v.row], options: opts } };
  }
  if (!isSequence(v)) throw logicError(`Expected type SEQUENCE but found ${v.t.toUpperCase()}.`);
  const seq = asSeq(v);
  const feed = seq.feed;
  if (typeof feed !== 'object') {
    const e = logicError(feed ?? 'Cannot call `changes` on this stream.');
    // The server blames the eager sequence itself, but reports the other refusals on `changes`.
    if (feed?.includes('eager')) e.backtrace = c.node.args[0]?.bt;
    throw e;
  }
  const request: FeedRequest = { kind: 'range', table: feed.table, transform: feed.transform, initial: seq.rows, options: opts };
  return { t: 'feed', feed: request };
}

export const feedTerms: TermDef[] = [
  {
    type: T.CHANGES,
    min: 1,
    max: 1,
    optargs: ['squash', 'changefeed_queue_size', 'include_initial', 'include_offsets', 'include_states', 'include_types'],
    run: changes,
  },
];
defineTerms(feedTerms);

interface Change {
  old: Datum;
  new: Datum;
}

/** A live feed on one connection: queues the table's changes until the client asks for them. */
export class FeedSubscription implements TableListener {
  /** States and initial values, sent before any change (from `readyPos` on). */
  private readonly ready: Datum[] = [];
  private readyPos = 0;
  private deferredReady: Datum | undefined;
  private changes: Change[] = [];
  /** With squash: the pending change of each document, by primary key. */
  private pendingByKey = new Map<string, Change>();
  private skipped = 0;
  private error: ReqlError | undefined;
  private waiter: (() => void) | undefined;
  private started = false;
  private closed = false;
  readonly notes: number[];

  constructor(private readonly req: FeedRequest) {
    const { options: o } = req;
    this.notes = [req.kind === 'point' ? ResponseNote.ATOM_FEED : ResponseNote.SEQUENCE_FEED];
    if (o.includeStates) this.notes.push(ResponseNote.INCLUDES_STATES);
    const withType = (d: DObject, type: string): DObject => (o.includeTypes ? { ...d, type } : d);
    const ready = withType({ state: 'ready' }, 'state');
    if (o.includeStates && o.includeInitial) this.ready.push(withType({ state: 'initializing' }, 'state'));
    if (req.kind === 'point' && o.includeInitial) this.ready.push(withType({ new_val: req.initial[0] ?? null }, 'initial'));
    if (req.kind === 'range' && o.includeInitial) {
      for (const row of req.initial) this.ready.push(withType({ new_val: row }, 'initial'));
    }
    // A range feed reports `ready` in the batch after its initial values; a point feed in the same batch.
    if (o.includeStates && req.kind === 'range' && o.includeInitial) this.deferredReady = ready;
    else if (o.includeStates) this.ready.push(ready);
    req.table.listeners.add(this);
  }

  onChange(oldRow: DObject | null, newRow: DObject | null): void {
    const before = this.view(oldRow);
    const after = this.view(newRow);
    if (before === null && after === null) return;
    if (before !== null && after !== null && equal(before, after)) return;
    if (this.req.options.squash !== false) {
      const key = JSON.stringify((newRow ?? oldRow)![this.req.table.pk]);
      const pending = this.pendingByKey.get(key);
      if (pending) {
        pending.new = after;
        this.wake();
        return;
      }
      const change = { old: before, new: after };
      this.pendingByKey.set(key, change);
      this.changes.push(change);
    } else {
      this.changes.push({ old: before, new: after });
    }
    if (this.changes.length > this.req.options.queueSize) {
      this.skipped += this.changes.length;
      this.changes = [];
      this.pendingByKey.clear();
    }
    this.wake();
  }

  onAbort(message: string): void {
    this.error = opFailed(message);
    this.wake();
  }

  /** What a row looks like through the feed's filter/map, null when it is outside. */
  private view(row: DObject | null): Datum {
    if (row === null) return null;
    try {
      return this.req.transform(row) ?? null;
    } catch {
      return null;
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private get empty(): boolean {
    return this.readyPos === this.ready.length && this.changes.length === 0 && this.skipped === 0 && !this.error;
  }

  /** The next batch: at once for the first, otherwise when there is something to send ([] once closed). */
  async next(): Promise<Datum[]> {
    if (this.started) {
      const squash = this.req.options.squash;
      if (typeof squash === 'number' && squash > 0) await new Promise((r) => setTimeout(r, squash * 1000));
      while (this.empty && !this.closed) await new Promise<void>((r) => (this.waiter = r));
    }
    const first = !this.started;
    this.started = true;
    if (this.closed) return [];
    if (this.error) throw this.error;
    if (this.skipped > 0) {
      const n = this.skipped;
      this.skipped = 0;
      return [{ error: `Changefeed cache over array size limit, skipped ${n} elements.` }];
    }
    // Initial values go out in batches of at most 1 MiB (the first a quarter of that), before any change.
    const out: Datum[] = [];
    let bytes = 0;
    const limit = first ? BATCH_BYTES / 4 : BATCH_BYTES;
    while (this.readyPos < this.ready.length && (out.length === 0 || bytes < limit)) {
      const d = this.ready[this.readyPos++];
      bytes += toJson(d).length;
      out.push(d);
    }
    if (this.readyPos < this.ready.length) return out;
    if (this.deferredReady !== undefined) {
      this.ready.push(this.deferredReady);
      this.deferredReady = undefined;
      return out;
    }
    for (const c of this.changes) {
      if (c.old === null && c.new === null) continue;
      if (c.old !== null && c.new !== null && equal(c.old, c.new)) continue;
      out.push(this.change(c.old, c.new));
    }
    this.changes = [];
    this.pendingByKey.clear();
    return out;
  }

  private change(oldVal: Datum, newVal: Datum): Datum {
    const d: DObject = { new_val: newVal, old_val: oldVal };
    if (this.req.options.includeTypes) d.type = oldVal === null ? 'add' : newVal === null ? 'remove' : 'change';
    return d;
  }

  /** Stops following the table; a held CONTINUE is released with an empty batch. */
  close(): void {
    this.closed = true;
    this.req.table.listeners.delete(this);
    this.wake();
  }
}

/** Sequence terms: filter, order_by, limit/skip/slice, count, map, union, distinct, contains, sum (count and map also per group). */
import { asInt, asNumber, compare, type Datum, type DObject, equal, isObject, reqlType, truthy } from './datum.js';
import { type Call, defineTerms, type TermDef, termDef as def } from './evaluator.js';
import { ReqlError, logicError, nonExistence, opFailed, resourceError } from './errors.js';
import { ErrorType, T } from './protocol.js';
import { perGroup } from './terms-group.js';
import { asDatum, asSeq, datumVal, type Fn, mapSeq, type Seq, seqVal, sliceRows, type Val } from './values.js';

// The default array size limit (the `array_limit` run option changes it).
const ARRAY_LIMIT = 100000;

function arrayLimit(c: Call): number {
  const d = c.optDatum('array_limit');
  return d === undefined ? ARRAY_LIMIT : asInt(d);
}

/** Filter's object shortcut: every field of the pattern must be present and equal (nested objects recursively). */
function filterMatch(pattern: DObject, value: Datum): boolean {
  if (reqlType(pattern) === 'LITERAL') return equal(pattern.value ?? null, value);
  for (const [k, want] of Object.entries(pattern)) {
    if (!isObject(value) || !Object.prototype.hasOwnProperty.call(value, k)) throw nonExistence(`No attribute \`${k}\` in object.`);
    const got = value[k];
    if (isObject(want) && isObject(got)) {
      if (!filterMatch(want, got)) return false;
    } else if (!equal(got, want)) return false;
  }
  return true;
}

/**
 * Filter's predicate. Its body is wrapped in an implicit `.default(false)`: a NON_EXISTENCE error (a missing
 * field) makes the row not match, unless the `default` optarg says otherwise (r.error() rethrows).
 */
function predicate(c: Call): (row: Datum) => boolean {
  const fn: Fn = c.func(1, 'constant');
  const defaultNode = c.node.optargs.get('default');
  return (row) => {
    try {
      const d = fn.call([row]);
      if (isObject(d) && (fn.bodyType === T.MAKE_OBJ || fn.bodyType === T.DATUM)) return filterMatch(d, row);
      return truthy(d);
    } catch (e) {
      if (!(e instanceof ReqlError) || e.errorType !== ErrorType.NON_EXISTENCE) throw e;
      if (!defaultNode) return false;
      if (defaultNode.type === T.ERROR && defaultNode.args.length === 0) throw e;
      return truthy(asDatum(c.ev.eval(defaultNode, c.scope)));
    }
  };
}

function filter(c: Call): Val {
  const seq = c.seq(0);
  const keep = predicate(c);
  const out = mapSeq(seq, (row) => (keep(row) ? row : undefined));
  // Filtering a selection leaves a selection: update/delete can follow.
  return seqVal({ ...out, table: seq.table });
}

type Ordering = { fn: Fn; desc: boolean };

function orderings(c: Call): Ordering[] {
  const out: Ordering[] = [];
  for (let i = 1; i < c.n; i++) out.push({ fn: c.func(i, 'field'), desc: c.rawArg(i)?.type === T.DESC });
  return out;
}

/** The server's order_by comparison: missing values (NON_EXISTENCE) sort before everything when ascending. */
function sortKey(fn: Fn, row: Datum): Datum | undefined {
  try {
    return fn.call([row]);
  } catch (e) {
    if (e instanceof ReqlError && e.errorType === ErrorType.NON_EXISTENCE) return undefined;
    throw e;
  }
}

function sortRows(rows: Datum[], order: Ordering[]): Datum[] {
  const keyed = rows.map((row) => ({ row, keys: order.map((o) => sortKey(o.fn, row)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < order.length; i++) {
      const x = a.keys[i];
      const y = b.keys[i];
      if (x === undefined && y === undefined) continue;
      const cmp = x === undefined ? -1 : y === undefined ? 1 : compare(x, y);
      if (cmp !== 0) return order[i].desc ? -cmp : cmp;
    }
    return 0;
  });
  return keyed.map((k) => k.row);
}

function orderBy(c: Call): Val {
  const v = c.arg(0);
  const order = orderings(c);
  const indexNode = c.node.optargs.get('index');
  if (indexNode) {
    if (v.t !== 'slice') {
      throw logicError(
        'Indexed order_by can only be performed on a TABLE or TABLE_SLICE. Make sure order_by comes before any transformations (such as map) or filters.',
      );
    }
    const index = String(c.optDatum('index'));
    if (index !== v.table.pk && !v.table.indexes.has(index)) {
      throw opFailed(`Index \`${index}\` was not found on table \`${v.table.display}\`.`);
    }
    if (v.order) throw logicError('Cannot perform multiple indexed ORDER_BYs on the same table.');
    if (v.bounds && v.index !== index) {
      throw logicError(`Cannot order by index \`${index}\` after calling BETWEEN on index \`${v.index}\`.`);
    }
    const slice: Val = { ...v, index, order: indexNode.type === T.DESC ? 'desc' : 'asc' };
    if (order.length === 0) return slice;
    // Extra orderings only break ties within equal index values.
    const rows = sliceRows(slice);
    const first: Ordering = { fn: { arity: 1, bodyType: T.FUNC, call: (a) => indexKey(v.table, index, a[0]), callVal: () => datumVal(null) }, desc: indexNode.type === T.DESC };
    return seqVal({ rows: sortRows(rows, [first, ...order]), stream: true, table: v.table, feed: 'Cannot call `changes` on this stream.' });
  }
  if (order.length === 0) throw logicError('Must specify something to order by.');
  const seq = asSeq(v);
  if (seq.rows.length > arrayLimit(c)) throw resourceError(`Array over size limit \`${arrayLimit(c)}\`.`);
  // Without an index the server sorts in memory and returns an array, still a selection if it came from a table.
  return seqVal({ rows: sortRows(seq.rows, order), stream: false, table: seq.table, feed: 'Cannot call `changes` on an eager stream.' });
}

function indexKey(table: { pk: string; indexValues(n: string, r: DObject): Datum[] }, index: string, row: Datum): Datum {
  if (!isObject(row)) return null;
  return index === table.pk ? row[table.pk] : (table.indexValues(index, row)[0] ?? null);
}

function nonNegative(c: Call, i: number, name: string): number {
  const n = asInt(c.datum(i));
  if (n < 0) throw logicError(`${name} takes a non-negative argument (got ${n})`);
  return n;
}

/** limit/skip/slice keep a selection a selection (so `.limit(1).delete()` works), but feeds on them are refused. */
function window(c: Call, from: number, to: number | undefined, feed: string): Val {
  const v = c.arg(0);
  const seq = asSeq(v);
  // order_by(index).limit(n).changes() is the server's ORDER_BY_LIMIT_FEED, which this server does not implement.
  const ordered = v.t === 'slice' && v.order !== undefined;
  const message = ordered && to !== undefined ? 'Changefeeds on `order_by.limit` are not implemented by the RethinkDB test server.' : feed;
  return seqVal({ rows: seq.rows.slice(from, to), stream: seq.stream, table: seq.table, feed: message });
}

const UNORDERED_LIMIT = 'Cannot get changes on the first elements of an unordered stream.';
const EAGER = 'Cannot call `changes` on an eager stream.';

function count(c: Call, v: Val): Val {
  if (v.t === 'datum' && typeof v.v === 'string') return datumVal([...v.v].length);
  if (v.t === 'datum' && isObject(v.v)) return datumVal(Object.keys(v.v).length);
  const rows = asSeq(v).rows;
  if (c.n === 1) return datumVal(rows.length);
  const fn = c.func(1, 'constant');
  const raw = c.rawArg(1);
  if (raw?.type === T.FUNC || fn.arity !== undefined) return datumVal(rows.filter((r) => truthy(fn.call([r]))).length);
  const value = fn.call([]);
  return datumVal(rows.filter((r) => equal(r, value)).length);
}

function union(c: Call): Val {
  const seqs: Seq[] = Array.from({ length: c.n }, (_, i) => asSeq(c.arg(i)));
  return seqVal({
    rows: seqs.flatMap((s) => s.rows),
    stream: seqs.some((s) => s.stream),
    feed: 'Changefeeds on `union` are not implemented by the RethinkDB test server.',
  });
}

export const seqTerms: TermDef[] = [
  def('FILTER', 2, 2, ['default'], filter),
  def('ORDER_BY', 1, -1, ['index'], orderBy),
  def('LIMIT', 2, 2, [], (c) => window(c, 0, nonNegative(c, 1, 'LIMIT'), UNORDERED_LIMIT)),
  def('SKIP', 2, 2, [], (c) => window(c, nonNegative(c, 1, 'SKIP'), undefined, EAGER)),
  def('SLICE', 1, 3, ['left_bound', 'right_bound'], (c) => {
    const start = c.n > 1 ? asInt(c.datum(1)) : 0;
    const end = c.n > 2 ? asInt(c.datum(2)) : undefined;
    const leftOpen = c.optDatum('left_bound') === 'open';
    const rightClosed = c.optDatum('right_bound') === 'closed';
    return window(c, start + (leftOpen ? 1 : 0), end === undefined ? undefined : end + (rightClosed ? 1 : 0), EAGER);
  }),
  def('COUNT', 1, 2, [], perGroup(count)),
  def('IS_EMPTY', 1, 1, [], (c) => datumVal(c.seq(0).rows.length === 0)),
  def('MAP', 2, 2, [], perGroup((c, v) => {
    const seq = c.blame(0, () => asSeq(v));
    const fn = c.func(1, 'none');
    return seqVal(mapSeq(seq, (row) => fn.call([row])));
  })),
  def('CONCAT_MAP', 2, 2, [], (c) => {
    const seq = c.seq(0);
    const fn = c.func(1, 'none');
    // The function may return an array or a stream (a read of a table, for example).
    const rows = seq.rows.flatMap((row) => asSeq(fn.callVal([row])).rows);
    return seqVal({ rows, stream: seq.stream, feed: 'Cannot call `changes` after `concat_map`.' });
  }),
  def('UNION', 0, -1, ['interleave'], union),
  def('DISTINCT', 1, 1, ['index'], (c) => {
    const sorted = c.seq(0).rows.slice().sort(compare);
    const rows = sorted.filter((r, i) => i === 0 || !equal(sorted[i - 1], r));
    return seqVal({ rows, stream: false, feed: 'Cannot call `changes` after `distinct`.' });
  }),
  def('CONTAINS', 1, -1, [], (c) => {
    const rows = c.seq(0).rows;
    for (let i = 1; i < c.n; i++) {
      const raw = c.rawArg(i);
      const ok =
        raw?.type === T.FUNC
          ? rows.some((r) => truthy(c.ev.lambda(raw, c.scope).call([r])))
          : rows.some((r) => equal(r, c.datum(i)));
      if (!ok) return datumVal(false);
    }
    return datumVal(true);
  }),
  def('SUM', 1, 2, [], (c) => {
    let rows = c.seq(0).rows;
    if (c.n === 2) {
      const fn = c.func(1, 'field');
      rows = rows.map((r) => sortKey(fn, r)).filter((r): r is Datum => r !== undefined);
    }
    return datumVal(rows.reduce<number>((s, r) => s + asNumber(r), 0));
  }),
];

defineTerms(seqTerms);

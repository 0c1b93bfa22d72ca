/** Grouping: group, reduce, ungroup, and the sequence terms that run once per group on grouped values (map, count). */
import { equal, compare, type Datum } from './datum.js';
import { type Call, defineTerms, type TermDef, termDef as def } from './evaluator.js';
import { logicError, nonExistence, notImplemented, ReqlError } from './errors.js';
import { ErrorType } from './protocol.js';
import { asDatum, asSeq, datumVal, type Fn, type Group, groupDatum, groupSeq, seqVal, type Val, wrongType } from './values.js';

/** Runs a sequence term once per group when its first argument is grouped, keeping the groups; otherwise once. */
export function perGroup(run: (c: Call, v: Val) => Val): (c: Call) => Val {
  return (c) => {
    const v = c.arg(0);
    if (v.t !== 'grouped') return run(c, v);
    const groups = v.groups.map((g): Group => {
      const out = run(c, seqVal(groupSeq(g)));
      return out.t === 'seq' ? { key: g.key, seq: out.seq } : { key: g.key, reduced: asDatum(out) };
    });
    return { t: 'grouped', groups };
  };
}

/** A row's value of one grouping function; a missing field puts the row in the null group, as the server does. */
function groupKey(fn: Fn, row: Datum): Datum {
  try {
    return fn.call([row]);
  } catch (e) {
    if (e instanceof ReqlError && e.errorType === ErrorType.NON_EXISTENCE) return null;
    throw e;
  }
}

function group(c: Call): Val {
  if (c.optDatum('index') !== undefined) throw notImplemented('`group` on an index');
  if (c.optBool('multi', false)) throw notImplemented('`group` with `multi: true`');
  if (c.n < 2) throw logicError('Cannot group by nothing.');
  const seq = c.seq(0);
  const fns = Array.from({ length: c.n - 1 }, (_, i) => c.func(i + 1, 'field'));
  const groups: { key: Datum; rows: Datum[] }[] = [];
  for (const row of seq.rows) {
    const keys = fns.map((fn) => groupKey(fn, row));
    // One function: its value is the group; several: the array of their values.
    const key = keys.length === 1 ? keys[0]! : keys;
    const found = groups.find((g) => equal(g.key, key));
    if (found) found.rows.push(row);
    else groups.push({ key, rows: [row] });
  }
  groups.sort((a, b) => compare(a.key, b.key));
  return { t: 'grouped', groups: groups.map((g) => ({ key: g.key, seq: { rows: g.rows, stream: seq.stream, feed: 'Cannot call `changes` on grouped data.' } })) };
}

function reduce(c: Call, v: Val): Val {
  const rows = c.blame(0, () => asSeq(v).rows);
  if (rows.length === 0) throw nonExistence('Cannot reduce over an empty stream.');
  const fn = c.func(1, 'none');
  return datumVal(rows.slice(1).reduce<Datum>((acc, row) => fn.call([acc, row]), rows[0]!));
}

export const groupTerms: TermDef[] = [
  def('GROUP', 1, -1, ['index', 'multi'], group),
  def('REDUCE', 2, 2, [], perGroup(reduce)),
  def('UNGROUP', 1, 1, [], (c) => {
    const v = c.arg(0);
    if (v.t !== 'grouped') throw wrongType('GROUPED_DATA', v);
    return datumVal(v.groups.map((g) => ({ group: g.key, reduction: groupDatum(g) })));
  }),
];

defineTerms(groupTerms);

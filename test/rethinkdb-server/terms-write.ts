/**
 * Writes: insert, update, replace, delete. Each row is written on its own (no transaction across rows), and a
 * row that fails does not fail the query: it is counted in `errors` with the first message in `first_error`,
 * as the real server reports per-row write failures.
 */
import { randomUUID } from 'node:crypto';
import { isDeterministic } from './compile.js';
import { asString, type Datum, type DObject, equal, isObject, pretty, typeName } from './datum.js';
import { type Call, defineTerms, type TermDef, termDef as def } from './evaluator.js';
import { logicError, ReqlError } from './errors.js';
import { checkPrimaryKey, type Table } from './store.js';
import { merge } from './terms-object.js';
import { asSeq, asTable, datumVal, type Fn, type Val } from './values.js';

type ReturnChanges = 'no' | 'yes' | 'always';

/** The write summary; every counter is present even when zero. */
class Stats {
  inserted = 0;
  replaced = 0;
  unchanged = 0;
  skipped = 0;
  deleted = 0;
  errors = 0;
  firstError: string | undefined;
  changes: Datum[] | undefined;
  generatedKeys: string[] = [];

  constructor(readonly returnChanges: ReturnChanges) {
    if (returnChanges !== 'no') this.changes = [];
  }

  error(message: string, oldVal: Datum): void {
    this.errors++;
    this.firstError ??= message;
    if (this.returnChanges === 'always') {
      // The server's source adds a `fake_new_val` here, but 2.4.4 answers without it.
      this.changes!.push({ error: message, new_val: oldVal, old_val: oldVal });
    }
  }

  change(oldVal: DObject | null, newVal: DObject | null): void {
    if (oldVal === null && newVal === null) this.skipped++;
    else if (oldVal === null) this.inserted++;
    else if (newVal === null) this.deleted++;
    else if (equal(oldVal, newVal)) this.unchanged++;
    else this.replaced++;
    const changed = !(oldVal === null ? newVal === null : newVal !== null && equal(oldVal, newVal));
    if (this.returnChanges === 'always' || (this.returnChanges === 'yes' && changed)) {
      this.changes!.push({ new_val: newVal, old_val: oldVal });
    }
  }

  toDatum(): DObject {
    const out: DObject = {
      deleted: this.deleted,
      errors: this.errors,
      inserted: this.inserted,
      replaced: this.replaced,
      skipped: this.skipped,
      unchanged: this.unchanged,
    };
    if (this.firstError !== undefined) out.first_error = this.firstError;
    if (this.changes) out.changes = this.changes;
    if (this.generatedKeys.length > 0) out.generated_keys = this.generatedKeys;
    return out;
  }
}

function returnChanges(c: Call): ReturnChanges {
  const d = c.optDatum('return_changes');
  if (d === undefined) return 'no';
  if (d === 'always') return 'always';
  if (typeof d === 'string') throw logicError(`Invalid return_changes value \`${d}\` (options are \`true\`, \`false\`, and \`'always'\`.)`);
  return d === true ? 'yes' : 'no';
}

function durability(c: Call): void {
  const d = c.optDatum('durability');
  if (d !== undefined && d !== 'hard' && d !== 'soft') {
    throw logicError(`Durability option \`${asString(d)}\` unrecognized (options are "hard" and "soft").`);
  }
}

/** Checks a row about to replace `old` under key `key` (null deletes); throws the server's per-row messages. */
function checkReplacement(t: Table, key: Datum, old: DObject | null, next: Datum): DObject | null {
  if (next === null) return null;
  if (!isObject(next)) throw logicError(`Inserted value must be an OBJECT (got ${typeName(next)}):\n${pretty(next)}`);
  if (!Object.prototype.hasOwnProperty.call(next, t.pk)) {
    throw logicError(`Inserted object must have primary key \`${t.pk}\`:\n${pretty(next)}`);
  }
  if (!equal(next[t.pk], key)) {
    throw logicError(`Primary key \`${t.pk}\` cannot be changed (\`${pretty(old)}\` -> \`${pretty(next)}\`).`);
  }
  return next;
}

function insert(c: Call): Val {
  const t = asTable(c.arg(0));
  const stats = new Stats(returnChanges(c));
  durability(c);
  const conflictVal = c.opt('conflict');
  const conflictFn: Fn | undefined = conflictVal?.t === 'func' ? conflictVal.fn : undefined;
  const conflict = conflictFn ? 'function' : conflictVal === undefined ? 'error' : asString(conflictVal.t === 'datum' ? conflictVal.v : null);
  if (!['error', 'replace', 'update', 'function'].includes(conflict)) {
    c.blame('conflict', () => {
      throw logicError(`Conflict option \`${conflict}\` unrecognized (options are "error", "replace" and "update").`);
    });
  }
  const v = c.arg(1);
  const docs = v.t === 'datum' && isObject(v.v) ? [v.v] : asSeq(v).rows;
  const rows: DObject[] = [];
  for (const doc of docs) {
    if (!isObject(doc)) {
      stats.error(`Expected type OBJECT but found ${typeName(doc)}.`, null);
      continue;
    }
    if (Object.prototype.hasOwnProperty.call(doc, t.pk)) rows.push(doc);
    else {
      const key = randomUUID();
      rows.push({ ...doc, [t.pk]: key });
      stats.generatedKeys.push(key);
    }
  }
  // The real server writes a batch per hash shard, so its rows (and their changefeed events) come in no set order.
  const valid = rows.filter((row) => row[t.pk] !== null && !isObject(row[t.pk]));
  const ordered = [...t.unordered(valid, (row) => row), ...rows.filter((row) => !valid.includes(row))];
  for (const row of ordered) {
    try {
      checkPrimaryKey(row[t.pk]);
      const old = t.get(row[t.pk]);
      let next: Datum = row;
      if (old !== null) {
        if (conflict === 'error') {
          stats.error(`Duplicate primary key \`${t.pk}\`:\n${pretty(old)}\n${pretty(row)}`, old);
          continue;
        }
        if (conflict === 'update') next = merge(old, row);
        if (conflictFn) next = conflictFn.call([t.pk, old, row]);
      }
      const checked = checkReplacement(t, row[t.pk], old, next);
      if (old !== null || checked !== null) t.write(row[t.pk], checked);
      stats.change(old, checked);
    } catch (e) {
      if (!(e instanceof ReqlError)) throw e;
      stats.error(e.message, null);
    }
  }
  return datumVal(stats.toDatum());
}

/**
 * Update, replace and delete share this path: for each selected row, re-read it, compute the new row, check
 * and store it. `f` gets the current row (null for a missing single row) and returns the new one (null deletes).
 */
function rewrite(c: Call, f: (old: DObject | null) => Datum, stats: Stats): Val {
  durability(c);
  const target = c.arg(0);
  const keyed: { table: Table; key: Datum }[] = [];
  if (target.t === 'single') keyed.push({ table: target.table, key: target.key });
  else {
    const seq = asSeq(target);
    if (!seq.table) throw logicError(`Expected type SELECTION but found ${seq.stream ? 'SEQUENCE' : 'DATUM'}:\n${pretty(seq.rows)}`);
    for (const row of seq.rows) if (isObject(row)) keyed.push({ table: seq.table, key: row[seq.table.pk] });
  }
  for (const { table, key } of keyed) {
    const old = table.get(key);
    let next: Datum | undefined;
    try {
      next = f(old);
      const checked = checkReplacement(table, key, old, next);
      if (old !== null || checked !== null) {
        if (old === null || checked === null || !equal(old, checked)) table.write(key, checked);
      }
      stats.change(old, checked);
    } catch (e) {
      if (!(e instanceof ReqlError)) throw e;
      stats.error(e.message, old);
    }
  }
  return datumVal(stats.toDatum());
}

/** Update and replace functions must be deterministic unless non_atomic is set (they run on the shard). */
function writeFn(c: Call): Fn {
  const raw = c.rawArg(1);
  if (raw && !c.optBool('non_atomic', false) && !isDeterministic(raw, true)) {
    throw logicError('Could not prove argument deterministic.  Maybe you want to use the non_atomic flag?');
  }
  return c.func(1, 'constant');
}

const WRITE_OPTS = ['non_atomic', 'durability', 'return_changes', 'ignore_write_hook'];

export const writeTerms: TermDef[] = [
  def('INSERT', 2, 2, ['conflict', 'durability', 'return_changes', 'ignore_write_hook'], insert),
  def('UPDATE', 2, 2, WRITE_OPTS, (c) => {
    const fn = writeFn(c);
    // A missing row is skipped; a null from the function leaves the row unchanged.
    return rewrite(
      c,
      (old) => {
        if (old === null) return null;
        const patch = fn.call([old]);
        return patch === null ? old : merge(old, patch);
      },
      new Stats(returnChanges(c)),
    );
  }),
  def('REPLACE', 2, 2, WRITE_OPTS, (c) => {
    const fn = writeFn(c);
    return rewrite(c, (old) => fn.call([old]), new Stats(returnChanges(c)));
  }),
  def('DELETE', 1, 1, ['durability', 'return_changes', 'ignore_write_hook'], (c) => rewrite(c, () => null, new Stats(returnChanges(c)))),
];

defineTerms(writeTerms);

/** Object and field terms; those that take an object also map over sequences, as on the server. */
import {
  asInt,
  asString,
  type Datum,
  type DObject,
  expectType,
  isObject,
  reqlType,
  truncPretty,
  typeError,
} from './datum.js';
import { type Call, defineTerms, getField, type TermDef, termDef as def } from './evaluator.js';
import { logicError, nonExistence } from './errors.js';
import { T } from './protocol.js';
import { asDatum, asSeq, datumVal, isSequence, mapSeq, type Val } from './values.js';

/** Applies `f` to an object, or to each object of a sequence (rows for which f gives undefined are dropped). */
function objOrSeq(c: Call, name: string, f: (o: DObject) => Datum | undefined): Val {
  const v = c.arg(0);
  if (isSequence(v)) {
    return { t: 'seq', seq: mapSeq(c.seq(0), (row) => f(asObj(row, name))) };
  }
  const d = c.datum(0);
  return datumVal(f(c.blame(0, () => asObj(d, name))) ?? null);
}

function asObj(d: Datum, name: string): DObject {
  if (!isObject(d)) throw typeError(d, `Cannot perform ${name} on a non-object non-sequence \`${truncPretty(d)}\`.`);
  return d;
}

const restArgs = (c: Call): Datum[] => Array.from({ length: c.n - 1 }, (_, i) => c.datum(i + 1));

/** Keeps the fields named by pluck's path specs: strings, arrays of specs, or {field: true | nested spec}. */
export function pluck(obj: DObject, specs: Datum[]): DObject {
  const out: DObject = {};
  for (const spec of specs) {
    if (typeof spec === 'string') {
      if (Object.prototype.hasOwnProperty.call(obj, spec)) out[spec] = obj[spec];
    } else if (Array.isArray(spec)) {
      Object.assign(out, pluck(obj, spec));
    } else if (isObject(spec)) {
      for (const [k, sub] of Object.entries(spec)) {
        if (!Object.prototype.hasOwnProperty.call(obj, k)) continue;
        const inner = obj[k];
        if (sub === true) out[k] = inner;
        else if (isObject(inner)) out[k] = pluck(inner, [sub]);
        else if (Array.isArray(inner)) out[k] = inner.filter(isObject).map((e) => pluck(e, [sub]));
      }
    } else {
      throw logicError(`Invalid path argument \`${truncPretty(spec)}\`.`);
    }
  }
  return out;
}

/** Drops the fields named by the path specs (the inverse of pluck). */
export function without(obj: DObject, specs: Datum[]): DObject {
  let out: DObject = { ...obj };
  for (const spec of specs) {
    if (typeof spec === 'string') delete out[spec];
    else if (Array.isArray(spec)) out = without(out, spec);
    else if (isObject(spec)) {
      for (const [k, sub] of Object.entries(spec)) {
        if (sub === true) delete out[k];
        else if (isObject(out[k])) out[k] = without(out[k] as DObject, [sub]);
      }
    }
  }
  return out;
}

/** Deep merge, right side winning; r.literal on the right replaces (or, empty, removes) instead of merging. */
export function merge(left: Datum, right: Datum): Datum {
  if (reqlType(right) === 'LITERAL') return (right as DObject).value ?? null;
  if (!isObject(left) || !isObject(right) || reqlType(left) !== undefined || reqlType(right) !== undefined) {
    return dropLiterals(right);
  }
  const out: DObject = { ...left };
  for (const [k, v] of Object.entries(right)) {
    if (reqlType(v) === 'LITERAL' && !Object.prototype.hasOwnProperty.call(v, 'value')) delete out[k];
    else out[k] = Object.prototype.hasOwnProperty.call(left, k) ? merge(left[k], v) : dropLiterals(v);
  }
  return out;
}

function dropLiterals(d: Datum): Datum {
  if (reqlType(d) === 'LITERAL') return (d as DObject).value ?? null;
  if (!isObject(d) || reqlType(d) !== undefined) return d;
  const out: DObject = {};
  for (const [k, v] of Object.entries(d)) {
    if (reqlType(v) === 'LITERAL' && !Object.prototype.hasOwnProperty.call(v, 'value')) continue;
    out[k] = dropLiterals(v);
  }
  return out;
}

function hasFields(obj: DObject, specs: Datum[]): boolean {
  return specs.every((spec) => {
    if (typeof spec === 'string') return Object.prototype.hasOwnProperty.call(obj, spec) && obj[spec] !== null;
    if (Array.isArray(spec)) return hasFields(obj, spec);
    if (isObject(spec)) {
      return Object.entries(spec).every(([k, sub]) => {
        const inner = obj[k];
        if (inner === undefined || inner === null) return false;
        return sub === true || (isObject(inner) && hasFields(inner, [sub]));
      });
    }
    throw logicError(`Invalid path argument \`${truncPretty(spec)}\`.`);
  });
}

/** NTH / bracket with a number: negative indexes count from the end. */
function nth(rows: Datum[], index: number): Datum {
  const i = index < 0 ? rows.length + index : index;
  if (i < 0 || i >= rows.length) throw nonExistence(`Index out of bounds: ${index}`);
  return rows[i];
}

function getFieldTerm(c: Call, name: string, key: string): Val {
  const v = c.arg(0);
  if (isSequence(v)) {
    // On a sequence, get_field maps and skips elements that lack the field.
    return {
      t: 'seq',
      seq: mapSeq(asSeq(v), (row) => {
        const o = asObj(row, name);
        return Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined;
      }),
    };
  }
  const d = c.datum(0);
  return datumVal(getField(c.blame(0, () => asObj(d, name)), key));
}

export const objectTerms: TermDef[] = [
  def('GET_FIELD', 2, 2, [], (c) => getFieldTerm(c, 'get_field', asString(c.datum(1)))),
  def('BRACKET', 2, 2, [], (c) => {
    const key = c.datum(1);
    if (typeof key === 'number') {
      const v = c.arg(0);
      if (!isSequence(v)) throw typeError(asDatum(v), `Cannot perform bracket on a non-sequence \`${truncPretty(asDatum(v))}\`.`);
      return datumVal(nth(asSeq(v).rows, asInt(key)));
    }
    if (typeof key !== 'string') throw logicError(`Expected NUMBER or STRING as second argument to \`bracket\` but found ${truncPretty(key)}.`);
    return getFieldTerm(c, 'bracket', key);
  }),
  def('NTH', 2, 2, [], (c) => datumVal(nth(c.seq(0).rows, asInt(c.datum(1))))),
  def('PLUCK', 1, -1, [], (c) => objOrSeq(c, 'pluck', (o) => pluck(o, restArgs(c)))),
  def('WITHOUT', 1, -1, [], (c) => objOrSeq(c, 'without', (o) => without(o, restArgs(c)))),
  def('HAS_FIELDS', 1, -1, [], (c) => {
    const v = c.arg(0);
    const specs = restArgs(c);
    if (isSequence(v)) {
      return { t: 'seq', seq: mapSeq(asSeq(v), (row) => (hasFields(asObj(row, 'has_fields'), specs) ? row : undefined)) };
    }
    return datumVal(hasFields(asObj(asDatum(v), 'has_fields'), specs));
  }),
  def('MERGE', 1, -1, [], (c) => {
    const parts = Array.from({ length: c.n - 1 }, (_, i): ((o: DObject) => Datum) => {
      const raw = c.rawArg(i + 1);
      if (raw?.type === T.FUNC) {
        const fn = c.ev.lambda(raw, c.scope);
        return (o) => fn.call([o]);
      }
      const d = c.datum(i + 1);
      return () => d;
    });
    return objOrSeq(c, 'merge', (o) => parts.reduce<Datum>((acc, part) => merge(acc, part(o)), o));
  }),
  def('LITERAL', 0, 1, [], (c) => datumVal(c.n === 0 ? { $reql_type$: 'LITERAL' } : { $reql_type$: 'LITERAL', value: c.datum(0) })),
  def('KEYS', 1, 1, [], (c) => datumVal(Object.keys(asObj(c.datum(0), 'keys')).sort())),
  def('VALUES', 1, 1, [], (c) => {
    const o = asObj(c.datum(0), 'values');
    return datumVal(Object.keys(o).sort().map((k) => o[k]));
  }),
  def('OBJECT', 0, -1, [], (c) => {
    if (c.n % 2 !== 0) throw logicError('OBJECT expects an even number of arguments (but found ' + c.n + ').');
    const out: DObject = {};
    for (let i = 0; i < c.n; i += 2) out[asString(c.datum(i))] = c.datum(i + 1);
    return datumVal(out);
  }),
  def('APPEND', 2, 2, [], (c) => {
    const a = c.datum(0);
    expectType(a, 'ARRAY');
    return datumVal([...(a as Datum[]), c.datum(1)]);
  }),
  def('PREPEND', 2, 2, [], (c) => {
    const a = c.datum(0);
    expectType(a, 'ARRAY');
    return datumVal([c.datum(1), ...(a as Datum[])]);
  }),
];

defineTerms(objectTerms);

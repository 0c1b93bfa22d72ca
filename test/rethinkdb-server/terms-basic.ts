/** Data, variables, functions, control flow, comparison, arithmetic and time terms. */
import { randomUUID } from 'node:crypto';
import {
  asNumber,
  asString,
  compare,
  type Datum,
  type DObject,
  equal,
  expectType,
  MAXVAL,
  MINVAL,
  reqlType,
  truthy,
  typeName,
  isObject,
} from './datum.js';
import { type Call, defineTerms, type TermDef, termDef as def } from './evaluator.js';
import { logicError, ReqlError, runtimeError } from './errors.js';
import { ErrorType, T } from './protocol.js';
import { asDatum, asSeq, datumVal, type Val, valTypeName } from './values.js';

const allArgs = (c: Call): Datum[] => Array.from({ length: c.n }, (_, i) => c.datum(i));

/** EQ, LT, ...: true when every adjacent pair satisfies the test. */
function chain(test: (cmp: number) => boolean) {
  return (c: Call): Val => {
    const vals = allArgs(c);
    for (let i = 1; i < vals.length; i++) if (!test(compare(vals[i - 1], vals[i]))) return datumVal(false);
    return datumVal(true);
  };
}

export function makeTime(epochSeconds: number, timezone = '+00:00'): DObject {
  // Times carry millisecond precision on the server.
  return { $reql_type$: 'TIME', epoch_time: Math.round(epochSeconds * 1000) / 1000, timezone };
}

function asTime(d: Datum): DObject {
  if (reqlType(d) !== 'TIME') throw logicError(`Not a TIME pseudotype: \`${JSON.stringify(d)}\`.`);
  return d as DObject;
}

function add(vals: Datum[]): Datum {
  const [first, ...rest] = vals;
  if (reqlType(first) === 'TIME') {
    const t = asTime(first);
    return makeTime((t.epoch_time as number) + rest.reduce<number>((s, d) => s + asNumber(d), 0), t.timezone as string);
  }
  if (typeof first === 'string') return rest.reduce<string>((s, d) => s + asString(d), first);
  if (Array.isArray(first)) {
    return rest.reduce<Datum[]>((a, d) => {
      expectType(d, 'ARRAY');
      return a.concat(d as Datum[]);
    }, first);
  }
  return rest.reduce<number>((s, d) => s + asNumber(d), asNumber(first));
}

function sub(vals: Datum[]): Datum {
  const [first, ...rest] = vals;
  if (reqlType(first) === 'TIME') {
    const t = asTime(first);
    if (rest.length === 1 && reqlType(rest[0]) === 'TIME') return (t.epoch_time as number) - (asTime(rest[0]).epoch_time as number);
    return makeTime((t.epoch_time as number) - rest.reduce<number>((s, d) => s + asNumber(d), 0), t.timezone as string);
  }
  return rest.reduce<number>((s, d) => s - asNumber(d), asNumber(first));
}

function arith(op: (a: number, b: number) => number, zeroCheck = false) {
  return (c: Call): Val => {
    const vals = allArgs(c).map(asNumber);
    return datumVal(
      vals.slice(1).reduce((a, b) => {
        if (zeroCheck && b === 0) throw logicError('Cannot divide by zero.');
        return op(a, b);
      }, vals[0]),
    );
  };
}

/** The server's TYPE_OF names, including non-datum values. */
function typeOf(v: Val): string {
  switch (v.t) {
    case 'datum':
      return typeName(v.v);
    case 'db':
      return 'DB';
    case 'slice':
      return valTypeName(v) === 'TABLE' ? 'TABLE' : 'TABLE_SLICE';
    case 'single':
      return 'SELECTION<OBJECT>';
    case 'seq':
      return v.seq.table ? (v.seq.stream ? 'SELECTION<STREAM>' : 'SELECTION<ARRAY>') : v.seq.stream ? 'STREAM' : 'ARRAY';
    case 'func':
      return 'FUNCTION';
    case 'feed':
      return 'STREAM';
    case 'grouped':
      return valTypeName(v);
  }
}

function coerceTo(v: Val, target: string): Datum {
  const want = target.toUpperCase();
  if ((v.t === 'seq' || v.t === 'slice') && want === 'ARRAY') return asSeq(v).rows;
  const d = asDatum(v);
  const have = typeName(d);
  if (have === want) return d;
  if (want === 'STRING') return typeof d === 'string' ? d : JSON.stringify(d);
  if (want === 'NUMBER' && typeof d === 'string') {
    const n = Number(d);
    if (d.trim() === '' || !Number.isFinite(n)) throw logicError(`Could not coerce \`${d}\` to NUMBER.`);
    return n;
  }
  if (want === 'BOOL') return truthy(d);
  if (want === 'OBJECT' && Array.isArray(d)) {
    const out: DObject = {};
    for (const pair of d) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string') {
        throw logicError(`Expected array of size 2, but got size ${Array.isArray(pair) ? pair.length : 1}.`);
      }
      out[pair[0]] = pair[1];
    }
    return out;
  }
  if (want === 'ARRAY' && isObject(d) && reqlType(d) === undefined) return Object.entries(d).map(([k, x]) => [k, x]);
  throw logicError(`Cannot coerce ${have} to ${want}.`);
}

export const basicTerms: TermDef[] = [
  def('DATUM', 0, 0, [], (c) => datumVal(c.node.datum ?? null)),
  def('MAKE_ARRAY', 0, -1, [], (c) => datumVal(allArgs(c))),
  def('MAKE_OBJ', 0, 0, [], (c) => {
    const out: DObject = {};
    for (const [k, n] of c.node.optargs) out[k] = asDatum(c.ev.eval(n, c.scope));
    return datumVal(out);
  }),
  def('VAR', 1, 1, [], (c) => datumVal(c.scope.vars.get(c.node.args[0].datum as number) ?? null)),
  def('IMPLICIT_VAR', 0, 0, [], (c) => datumVal(c.scope.implicit ?? null)),
  def('FUNC', 2, 2, [], (c) => ({ t: 'func', fn: c.ev.lambda(c.node, c.scope) })),
  def('FUNCALL', 1, -1, [], (c) => {
    const fn = c.func(0, 'none');
    return fn.callVal(Array.from({ length: c.n - 1 }, (_, i) => c.datum(i + 1)));
  }),
  def('ARGS', 1, 1, [], () => {
    throw logicError('r.args is not supported in this position.');
  }),
  def('BRANCH', 3, -1, [], (c) => {
    // BRANCH(test1, then1, test2, then2, ..., else)
    if (c.n % 2 === 0) throw logicError('Cannot call `branch` with an even number of arguments.');
    for (let i = 0; i + 1 < c.n; i += 2) if (truthy(c.datum(i))) return c.arg(i + 1);
    return c.arg(c.n - 1);
  }),
  def('AND', 0, -1, [], (c) => {
    let last: Datum = true;
    for (let i = 0; i < c.n; i++) if (!truthy((last = c.datum(i)))) return datumVal(last);
    return datumVal(last);
  }),
  def('OR', 0, -1, [], (c) => {
    let last: Datum = false;
    for (let i = 0; i < c.n; i++) if (truthy((last = c.datum(i)))) return datumVal(last);
    return datumVal(last);
  }),
  def('NOT', 1, 1, [], (c) => datumVal(!truthy(c.datum(0)))),
  def('EQ', 2, -1, [], chain((x) => x === 0)),
  def('NE', 2, -1, [], (c) => {
    const vals = allArgs(c);
    return datumVal(!vals.slice(1).every((v, i) => equal(vals[i], v)));
  }),
  def('LT', 2, -1, [], chain((x) => x < 0)),
  def('LE', 2, -1, [], chain((x) => x <= 0)),
  def('GT', 2, -1, [], chain((x) => x > 0)),
  def('GE', 2, -1, [], chain((x) => x >= 0)),
  def('ADD', 1, -1, [], (c) => datumVal(add(allArgs(c)))),
  def('SUB', 1, -1, [], (c) => datumVal(sub(allArgs(c)))),
  def('MUL', 1, -1, [], arith((a, b) => a * b)),
  def('DIV', 1, -1, [], arith((a, b) => a / b, true)),
  def('MOD', 2, 2, [], arith((a, b) => a % b, true)),
  def('FLOOR', 1, 1, [], (c) => datumVal(Math.floor(asNumber(c.datum(0))))),
  def('CEIL', 1, 1, [], (c) => datumVal(Math.ceil(asNumber(c.datum(0))))),
  def('ROUND', 1, 1, [], (c) => datumVal(Math.round(asNumber(c.datum(0))))),
  def('DEFAULT', 2, 2, [], (c) => {
    // DEFAULT catches null results and NON_EXISTENCE errors (missing fields, out-of-range indexes).
    let message: Datum = null;
    try {
      const v = c.arg(0);
      if (v.t !== 'datum' || v.v !== null) return v;
    } catch (e) {
      if (!(e instanceof ReqlError) || e.errorType !== ErrorType.NON_EXISTENCE) throw e;
      message = e.message;
    }
    const raw = c.rawArg(1);
    if (raw?.type === T.FUNC) return c.ev.lambda(raw, c.scope).callVal([message]);
    return c.arg(1);
  }),
  def('ERROR', 0, 1, [], (c) => {
    if (c.n === 0) throw runtimeError(ErrorType.USER, 'Empty ERROR term outside a default block.');
    throw runtimeError(ErrorType.USER, asString(c.datum(0)));
  }),
  def('COERCE_TO', 2, 2, [], (c) => datumVal(coerceTo(c.arg(0), asString(c.datum(1))))),
  def('TYPE_OF', 1, 1, [], (c) => datumVal(typeOf(c.arg(0)))),
  def('MINVAL', 0, 0, [], () => datumVal(MINVAL)),
  def('MAXVAL', 0, 0, [], () => datumVal(MAXVAL)),
  def('UUID', 0, 1, [], (c) => {
    if (c.n === 0) return datumVal(randomUUID());
    throw logicError('UUID from a string (version 5) is not implemented by the RethinkDB test server.');
  }),
  def('ASC', 1, 1, [], (c) => c.arg(0)),
  def('DESC', 1, 1, [], (c) => c.arg(0)),
  def('NOW', 0, 0, [], (c) => datumVal(makeTime(c.ev.startedAt / 1000))),
  def('EPOCH_TIME', 1, 1, [], (c) => datumVal(makeTime(asNumber(c.datum(0))))),
  def('TO_EPOCH_TIME', 1, 1, [], (c) => datumVal(asTime(c.datum(0)).epoch_time)),
  def('ISO8601', 1, 1, ['default_timezone'], (c) => {
    const s = asString(c.datum(0));
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) throw logicError(`Invalid ISO 8601 string: \`${s}\`.`);
    return datumVal(makeTime(ms / 1000));
  }),
  def('TO_ISO8601', 1, 1, [], (c) => {
    const t = asTime(c.datum(0));
    return datumVal(new Date((t.epoch_time as number) * 1000).toISOString().replace('Z', '+00:00'));
  }),
];

defineTerms(basicTerms);

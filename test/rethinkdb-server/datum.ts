/** ReQL data: JSON values plus r.minval/r.maxval, with the server's ordering, type names and printing. */
import { logicError, nonExistence, type ReqlError } from './errors.js';

export class Extremum {
  constructor(readonly max: boolean) {}
}
export const MINVAL = new Extremum(false);
export const MAXVAL = new Extremum(true);

export type DObject = { [key: string]: Datum };
export type Datum = null | boolean | number | string | Datum[] | DObject | Extremum;

export function isObject(d: Datum): d is DObject {
  return d !== null && typeof d === 'object' && !Array.isArray(d) && !(d instanceof Extremum);
}

export function reqlType(d: Datum): string | undefined {
  if (!isObject(d)) return undefined;
  const t = d.$reql_type$;
  return typeof t === 'string' ? t : undefined;
}

/** The server's type name: NULL, BOOL, NUMBER, STRING, ARRAY, OBJECT, PTYPE<TIME>, MINVAL, MAXVAL. */
export function typeName(d: Datum): string {
  if (d === null) return 'NULL';
  if (d instanceof Extremum) return d.max ? 'MAXVAL' : 'MINVAL';
  if (Array.isArray(d)) return 'ARRAY';
  switch (typeof d) {
    case 'boolean':
      return 'BOOL';
    case 'number':
      return 'NUMBER';
    case 'string':
      return 'STRING';
    default: {
      const t = reqlType(d);
      return t === undefined ? 'OBJECT' : `PTYPE<${t}>`;
    }
  }
}

// Type ranks follow the server's datum type enum: MINVAL < ARRAY < BOOL < NULL < NUMBER < OBJECT < STRING < MAXVAL.
// Pseudotypes sort by their type name ("PTYPE<TIME>"), which falls between OBJECT and STRING.
function sortName(d: Datum): string {
  if (d instanceof Extremum) return d.max ? '\xffMAXVAL' : '\x01MINVAL';
  return typeName(d);
}

/** Strings compare bytewise in UTF-8 on the server, i.e. by code point (not by UTF-16 unit as JS does). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    if (ca > 0xffff) i++;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Total ReQL ordering, as used by comparisons, order_by and index ranges. */
export function compare(a: Datum, b: Datum): number {
  const ta = sortName(a);
  const tb = sortName(b);
  if (ta !== tb) return compareStrings(ta, tb);
  if (a === null || a instanceof Extremum) return 0;
  if (typeof a === 'boolean' || typeof a === 'number') return a === b ? 0 : Number(a) < Number(b) ? -1 : 1;
  if (typeof a === 'string') return compareStrings(a, b as string);
  if (Array.isArray(a)) {
    const bb = b as Datum[];
    for (let i = 0; i < a.length; i++) {
      if (i >= bb.length) return 1;
      const c = compare(a[i], bb[i]);
      if (c !== 0) return c;
    }
    return a.length === bb.length ? 0 : -1;
  }
  const bo = b as DObject;
  if (reqlType(a) === 'TIME') return compare(a.epoch_time, bo.epoch_time);
  // Objects compare as sorted (key, value) lists.
  const ka = sortedKeys(a);
  const kb = sortedKeys(bo);
  for (let i = 0; i < ka.length && i < kb.length; i++) {
    const kc = compareStrings(ka[i], kb[i]);
    if (kc !== 0) return kc;
    const vc = compare(a[ka[i]], bo[kb[i]]);
    if (vc !== 0) return vc;
  }
  return ka.length === kb.length ? 0 : ka.length < kb.length ? -1 : 1;
}

export const equal = (a: Datum, b: Datum): boolean => compare(a, b) === 0;

export function sortedKeys(o: DObject): string[] {
  return Object.keys(o).sort(compareStrings);
}

/** Errors about a value's type are NON_EXISTENCE when the value is null (so `default` catches them), else QUERY_LOGIC. */
export function typeError(d: Datum, message: string): ReqlError {
  return d === null ? nonExistence(message) : logicError(message);
}

export function expectType(d: Datum, want: 'STRING' | 'NUMBER' | 'BOOL' | 'ARRAY' | 'OBJECT'): void {
  const got = typeName(d);
  if (got !== want) throw typeError(d, `Expected type ${want} but found ${got}.`);
}

export function asString(d: Datum): string {
  expectType(d, 'STRING');
  return d as string;
}

export function asNumber(d: Datum): number {
  expectType(d, 'NUMBER');
  return d as number;
}

export function asInt(d: Datum): number {
  const n = asNumber(d);
  if (!Number.isInteger(n)) throw logicError(`Number not an integer: ${n}`);
  return n;
}

export function asObject(d: Datum): DObject {
  expectType(d, 'OBJECT');
  return d as DObject;
}

export function asArray(d: Datum): Datum[] {
  expectType(d, 'ARRAY');
  return d as Datum[];
}

/** ReQL truthiness: only `false` and `null` are false. */
export const truthy = (d: Datum): boolean => d !== false && d !== null;

/** Compact JSON with object keys sorted, as the server writes every response (its objects are sorted maps). */
export function toJson(d: Datum): string {
  if (d instanceof Extremum) throw logicError(`Cannot convert \`r.${d.max ? 'maxval' : 'minval'}\` to JSON.`);
  if (d === null || typeof d !== 'object') return JSON.stringify(d);
  if (Array.isArray(d)) return `[${d.map(toJson).join(',')}]`;
  return `{${sortedKeys(d)
    .map((k) => `${JSON.stringify(k)}:${toJson(d[k])}`)
    .join(',')}}`;
}

/** The server's `print()`, used inside error messages: rapidjson's pretty writer indenting with tabs (and a tab after each key's colon). */
export function pretty(d: Datum, indent = ''): string {
  if (d instanceof Extremum) return d.max ? 'r.maxval' : 'r.minval';
  if (d === null || typeof d !== 'object') return JSON.stringify(d);
  const inner = `${indent}\t`;
  if (Array.isArray(d)) {
    if (d.length === 0) return '[]';
    return `[\n${d.map((v) => inner + pretty(v, inner)).join(',\n')}\n${indent}]`;
  }
  const keys = sortedKeys(d);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}:\t${pretty(d[k], inner)}`).join(',\n')}\n${indent}}`;
}

/** `pretty` cut to 300 characters, as the server does for values quoted in type errors. */
export function truncPretty(d: Datum): string {
  const s = pretty(d);
  return s.length > 300 ? `${s.slice(0, 297)}...` : s;
}

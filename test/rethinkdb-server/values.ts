/** What terms evaluate to (the server's val_t kinds), and the conversions between them. */
import { type Datum, type DObject, typeName, truncPretty, typeError, compare } from './datum.js';
import { logicError, notImplemented } from './errors.js';
import type { Node } from './compile.js';
import type { Table } from './store.js';

export interface Bounds {
  left: Datum;
  right: Datum;
  leftOpen: boolean;
  rightOpen: boolean;
}

/** A function value: a lambda from the query, or a shortcut the server builds from a datum. */
export interface Fn {
  /** Declared argument count (undefined for shortcuts, which take any). */
  arity: number | undefined;
  /** Term type of the body; filter treats an object-literal body as a pattern. */
  bodyType: number;
  /** The FUNC term, for determinism checks and index descriptions. */
  node?: Node;
  call(args: Datum[]): Datum;
  callVal(args: Datum[]): Val;
}

/** How a changefeed follows a sequence: which table, and what each changed row becomes (undefined = not in it). */
export interface FeedSource {
  table: Table;
  transform: (row: DObject) => Datum | undefined;
}

export interface Seq {
  rows: Datum[];
  /** A lazy stream on the server (answered as SUCCESS_SEQUENCE/PARTIAL); false for arrays (SUCCESS_ATOM). */
  stream: boolean;
  /** Set while the sequence is still a selection of stored rows, which writes may target. */
  table?: Table;
  /** How `changes` follows this sequence, or the error the server gives for it. */
  feed?: FeedSource | string;
}

export interface PointFeed {
  table: Table;
  key: Datum;
}

export type Val =
  | { t: 'datum'; v: Datum }
  | { t: 'db'; name: string }
  | { t: 'slice'; table: Table; index: string; bounds?: Bounds; order?: 'asc' | 'desc' }
  | { t: 'single'; table: Table; key: Datum; row: DObject | null }
  | { t: 'seq'; seq: Seq }
  | { t: 'func'; fn: Fn }
  | { t: 'feed'; feed: FeedRequest }
  | { t: 'grouped'; groups: Group[] };

/** One group of `group`'s result: its key and its rows (a grouped stream) or what a reduction made of them (grouped data). */
export type Group = { key: Datum; seq: Seq } | { key: Datum; reduced: Datum };

export interface FeedOptions {
  includeInitial: boolean;
  includeStates: boolean;
  includeTypes: boolean;
  squash: boolean | number;
  queueSize: number;
}

/** What `changes` evaluates to; the connection turns it into a live subscription. */
export interface FeedRequest {
  kind: 'range' | 'point';
  table: Table;
  transform: (row: DObject) => Datum | undefined;
  /** Current values for include_initial (range feeds), or the point's current row. */
  initial: Datum[];
  options: FeedOptions;
}

export const datumVal = (v: Datum): Val => ({ t: 'datum', v });
export const seqVal = (seq: Seq): Val => ({ t: 'seq', seq });

/** The server's name for a value's type, as used in "Expected type X but found Y" messages. */
export function valTypeName(v: Val): string {
  switch (v.t) {
    case 'datum':
      return 'DATUM';
    case 'db':
      return 'DATABASE';
    case 'slice':
      return v.bounds || v.order || v.index !== v.table.pk ? 'TABLE_SLICE' : 'TABLE';
    case 'single':
      return 'SINGLE_SELECTION';
    case 'seq':
      return v.seq.table ? 'SELECTION' : v.seq.stream ? 'SEQUENCE' : 'DATUM';
    case 'func':
      return 'FUNCTION';
    case 'feed':
      return 'SEQUENCE';
    case 'grouped':
      return isGroupedData(v) ? 'GROUPED_DATA' : 'GROUPED_STREAM';
  }
}

/** The server's `val_t::print()`, used after type errors. */
export function valPrint(v: Val): string {
  switch (v.t) {
    case 'datum':
      return truncPretty(v.v);
    case 'db':
      return `db("${v.name}")`;
    case 'slice':
      return `table("${v.table.name}")`;
    case 'single':
      return truncPretty(v.row);
    case 'seq':
      return v.seq.table ? `SELECTION ON table(${v.seq.table.name})` : `VALUE ${valTypeName(v)}`;
    default:
      return `VALUE ${valTypeName(v)}`;
  }
}

export function wrongType(want: string, v: Val): Error {
  const msg = `Expected type ${want} but found ${valTypeName(v)}:\n${valPrint(v)}`;
  return v.t === 'datum' ? typeError(v.v, msg) : logicError(msg);
}

/** Grouped data: every group reduced to a datum (grouped streams still hold rows). */
export function isGroupedData(v: Extract<Val, { t: 'grouped' }>): boolean {
  return v.groups.every((g) => 'reduced' in g);
}

/** A group's value as a datum: its rows as an array, or its reduction. */
export function groupDatum(g: Group): Datum {
  return 'reduced' in g ? g.reduced : g.seq.rows;
}

/** A group's rows; a reduction must be an array here. */
export function groupSeq(g: Group): Seq {
  return 'reduced' in g ? asSeq(datumVal(g.reduced)) : g.seq;
}

/** A datum from any value that is one: datums, single rows (null if missing), arrays. */
export function asDatum(v: Val): Datum {
  if (v.t === 'datum') return v.v;
  if (v.t === 'single') return v.row;
  if (v.t === 'seq' && !v.seq.stream) return v.seq.rows;
  // A grouped result goes out as the GROUPED_DATA pseudotype, groups in key order, streams as arrays.
  if (v.t === 'grouped') return { $reql_type$: 'GROUPED_DATA', data: v.groups.map((g) => [g.key, groupDatum(g)]) };
  throw wrongType('DATUM', v);
}

export function isSequence(v: Val): boolean {
  return v.t === 'slice' || v.t === 'seq' || (v.t === 'datum' && Array.isArray(v.v));
}

/** Rows of a table slice: in index order (ties by primary key) when ordered, else in the unordered read order. */
export function sliceRows(v: Extract<Val, { t: 'slice' }>): DObject[] {
  const { table, index, bounds, order } = v;
  if (index === table.pk) {
    let rows = table.sorted();
    if (bounds) rows = rows.filter((r) => inBounds(r[table.pk], bounds));
    if (!order) return table.unordered(rows, (r) => r);
    return order === 'desc' ? rows.slice().reverse() : rows;
  }
  const entries = table.indexEntries(index).filter((e) => !bounds || inBounds(e.value, bounds));
  if (!order) return table.unordered(entries, (e) => e.row).map((e) => e.row);
  const rows = entries.map((e) => e.row);
  return order === 'desc' ? rows.reverse() : rows;
}

export function inBounds(value: Datum, b: Bounds): boolean {
  const l = compare(value, b.left);
  const r = compare(value, b.right);
  return (b.leftOpen ? l > 0 : l >= 0) && (b.rightOpen ? r < 0 : r <= 0);
}

/** A sequence from any value that is one; arrays become eager sequences. */
export function asSeq(v: Val): Seq {
  if (v.t === 'seq') return v.seq;
  if (v.t === 'slice') {
    const slice = v;
    const transform = (row: DObject): Datum | undefined => (sliceContains(slice, row) ? row : undefined);
    // An ordered slice still gives a plain SEQUENCE_FEED: the order does not apply to changes.
    const feed = { table: slice.table, transform };
    return { rows: sliceRows(slice), stream: true, table: slice.table, feed };
  }
  if (v.t === 'datum') {
    if (Array.isArray(v.v)) return { rows: v.v, stream: false, feed: 'Cannot call `changes` on an eager stream.' };
    throw typeError(v.v, `Cannot convert ${typeName(v.v)} to SEQUENCE`);
  }
  if (v.t === 'grouped') throw notImplemented('Grouped data as the argument of a term other than map, reduce, count or ungroup');
  throw wrongType('SEQUENCE', v);
}

function sliceContains(slice: Extract<Val, { t: 'slice' }>, row: DObject): boolean {
  if (!slice.bounds) return true;
  const bounds = slice.bounds;
  if (slice.index === slice.table.pk) return inBounds(row[slice.table.pk], bounds);
  return slice.table.indexValues(slice.index, row).some((value) => inBounds(value, bounds));
}

export function asFunc(v: Val): Fn {
  if (v.t === 'func') return v.fn;
  throw wrongType('FUNCTION', v);
}

export function asDb(v: Val): string {
  if (v.t === 'db') return v.name;
  throw wrongType('DATABASE', v);
}

/** A bare table (not a slice): what insert, get, get_all, between and the index terms need. */
export function asTable(v: Val): Table {
  if (v.t === 'slice' && valTypeName(v) === 'TABLE') return v.table;
  throw wrongType('TABLE', v);
}

/**
 * Maps a sequence row by row (undefined drops the row). The result is no longer a selection, but a changefeed
 * on it still works: the same mapping is applied to each changed row.
 */
export function mapSeq(seq: Seq, f: (row: Datum) => Datum | undefined): Seq {
  const rows: Datum[] = [];
  for (const r of seq.rows) {
    const m = f(r);
    if (m !== undefined) rows.push(m);
  }
  const feed = seq.feed;
  const next =
    typeof feed === 'object'
      ? {
          table: feed.table,
          transform: (row: DObject): Datum | undefined => {
            const v = feed.transform(row);
            return v === undefined ? undefined : f(v);
          },
        }
      : feed;
  return { rows, stream: seq.stream, feed: next };
}

/**
 * Turns a query's JSON term tree into checked nodes, failing with COMPILE_ERROR as the server does before it
 * evaluates anything: malformed terms, unknown term numbers, ASC/DESC out of place, writes nested in stream
 * operations, wrong argument counts, unknown optargs, unbound variables and misplaced r.row.
 */
import type { Datum } from './datum.js';
import { compileError, notImplemented, type Frame } from './errors.js';
import { T, TERM_NAMES } from './protocol.js';

export interface Node {
  type: number;
  args: Node[];
  optargs: Map<string, Node>;
  /** Path from the query root, reported as the backtrace `b` of errors in this term. */
  bt: Frame[];
  /** The value of a DATUM node. */
  datum?: Datum;
}

/** Argument count and optargs of a term this server implements (max -1: no upper bound). */
export interface TermSpec {
  min: number;
  max: number;
  optargs: readonly string[];
}

const WRITE_OR_META = new Set(
  'UPDATE DELETE INSERT REPLACE DB_CREATE DB_DROP TABLE_CREATE TABLE_DROP WAIT RECONFIGURE REBALANCE SYNC GRANT SET_WRITE_HOOK GET_WRITE_HOOK INDEX_CREATE INDEX_DROP INDEX_WAIT INDEX_RENAME'
    .split(' ')
    .map((n) => T[n]),
);
// Terms whose non-first arguments may not write: writes there would run once per element of a stream.
const FORBIDS_WRITES = new Set(
  'REDUCE MAP FOLD FILTER CONCAT_MAP GROUP INNER_JOIN OUTER_JOIN EQ_JOIN UPDATE DELETE REPLACE INSERT COUNT SUM AVG MIN MAX'
    .split(' ')
    .map((n) => T[n]),
);

function jsonType(v: unknown): string {
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return 'ARRAY';
  if (typeof v === 'boolean') return 'BOOL';
  return typeof v === 'object' ? 'OBJECT' : typeof v === 'number' ? 'NUMBER' : 'STRING';
}

interface Frame0 {
  type: number;
  parent?: Frame0;
  writesLegal: boolean;
}

function walk(raw: unknown, bt: Frame[], parent: Frame0 | undefined, isFirstArg: boolean): Node {
  const fail = (msg: string): never => {
    const e = compileError(msg);
    e.backtrace = bt;
    throw e;
  };
  const writesLegal = parent === undefined || (parent.writesLegal && (isFirstArg || !FORBIDS_WRITES.has(parent.type)));
  const node: Node = { type: T.DATUM, args: [], optargs: new Map(), bt };
  if (!Array.isArray(raw)) {
    if (raw !== null && typeof raw === 'object') {
      node.type = T.MAKE_OBJ;
      const frame = { type: T.MAKE_OBJ, parent, writesLegal };
      for (const [k, v] of Object.entries(raw)) node.optargs.set(k, walk(v, [...bt, k], frame, false));
    } else {
      node.datum = raw as Datum;
    }
    return node;
  }
  if (raw.length < 1 || raw.length > 3) fail(`Expected between 1 and 3 elements in a raw term, but found ${raw.length}.`);
  if (typeof raw[0] !== 'number') fail(`Expected a TermType as a NUMBER but found ${jsonType(raw[0])}.`);
  node.type = raw[0] as number;
  if (!TERM_NAMES.has(node.type)) fail(`Unrecognized TermType: ${node.type}.`);
  if (node.type === T.ASC || node.type === T.DESC) {
    const ok =
      parent !== undefined &&
      (parent.type === T.ORDER_BY ||
        parent.type === T.UNION ||
        (parent.type === T.MAKE_ARRAY && parent.parent?.type === T.UNION));
    if (!ok) fail(`${TERM_NAMES.get(node.type)} may only be used as an argument to ORDER_BY or UNION.`);
  }
  if (WRITE_OR_META.has(node.type) && !writesLegal) {
    fail('Cannot nest writes or meta ops in stream operations.  Use FOR_EACH instead.');
  }
  let args: unknown[] | undefined;
  let optargs: object | undefined;
  if (raw.length >= 2) {
    const second: unknown = raw[1];
    if (Array.isArray(second)) args = second;
    else if (second !== null && typeof second === 'object' && node.type !== T.DATUM) optargs = second;
    else if (node.type === T.DATUM) node.datum = second as Datum;
    else fail('Second element in a Term is neither arguments nor optional arguments.');
  }
  if (raw.length === 3) {
    if (optargs) fail('Second and third element in a term are both optional arguments.');
    const third: unknown = raw[2];
    if (third === null || typeof third !== 'object' || Array.isArray(third)) fail('Third element in a Term is not optional arguments.');
    optargs = third as object;
  }
  if (node.type === T.DATUM && args) node.datum = args as Datum;
  const frame = { type: node.type, parent, writesLegal };
  if (node.type !== T.DATUM) args?.forEach((a, i) => node.args.push(walk(a, [...bt, i], frame, i === 0)));
  for (const [k, v] of Object.entries(optargs ?? {})) node.optargs.set(k, walk(v, [...bt, k], frame, false));
  return node;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function argCountText(spec: TermSpec): string {
  if (spec.min === spec.max) return plural(spec.min, 'argument');
  if (spec.max < 0) return `${spec.min} or more arguments`;
  return `between ${spec.min} and ${spec.max} arguments`;
}

/** The server's arity message, also used at run time when r.args changed the count. */
export function checkArgCount(spec: TermSpec, n: number, bt: Frame[]): void {
  if (n < spec.min || (spec.max >= 0 && n > spec.max)) {
    const e = compileError(`Expected ${argCountText(spec)} but found ${n}.`);
    e.backtrace = bt;
    throw e;
  }
}

/** Second pass: each term's own contract, and which variables are visible where. */
function check(node: Node, specs: Map<number, TermSpec>, vars: Set<number>, implicitDepth: number): void {
  const fail = (msg: string): never => {
    const e = compileError(msg);
    e.backtrace = node.bt;
    throw e;
  };
  if (node.type === T.DATUM || node.type === T.MAKE_OBJ) {
    for (const v of node.optargs.values()) check(v, specs, vars, implicitDepth);
    return;
  }
  const spec = specs.get(node.type);
  if (!spec) {
    const e = notImplemented(`Term \`${TERM_NAMES.get(node.type)}\` (${node.type})`);
    e.backtrace = node.bt;
    throw e;
  }
  if (!node.args.some((a) => a.type === T.ARGS)) checkArgCount(spec, node.args.length, node.bt);
  for (const name of node.optargs.keys()) if (!spec.optargs.includes(name)) fail(`Unrecognized optional argument \`${name}\`.`);
  if (node.type === T.VAR) {
    const id = node.args[0]?.datum;
    if (typeof id !== 'number' || !vars.has(id)) fail('Variable name not found.');
  }
  if (node.type === T.IMPLICIT_VAR && implicitDepth !== 1) {
    fail(implicitDepth === 0 ? 'r.row is not defined in this context.' : 'Cannot use r.row in nested queries.  Use functions instead.');
  }
  if (node.type === T.FUNC) {
    const params = funcParams(node);
    const inner = new Set([...vars, ...params]);
    check(node.args[1], specs, inner, implicitDepth + (params.length === 1 ? 1 : 0));
    return;
  }
  for (const a of node.args) check(a, specs, vars, implicitDepth);
  for (const v of node.optargs.values()) check(v, specs, vars, implicitDepth);
}

/** The variable numbers a FUNC binds: its first argument is a literal array of numbers. */
export function funcParams(node: Node): number[] {
  const list = node.args[0];
  const raw = list.type === T.MAKE_ARRAY ? list.args.map((a) => a.datum) : list.type === T.DATUM ? list.datum : undefined;
  if (!Array.isArray(raw) || raw.some((x) => typeof x !== 'number')) {
    const e = compileError('Expected a list of variable numbers as the first argument of FUNC.');
    e.backtrace = node.bt;
    throw e;
  }
  return raw as number[];
}

/** The run options (global optargs) the server accepts; any other is a COMPILE_ERROR. */
const GLOBAL_OPTARGS = new Set(
  `_EVAL_FLAGS_ _NO_RECURSE_ _SHORTCUT_ array_limit attempts auth base binary_format changefeed_queue_size conflict data
  db default default_timezone dry_run durability emergency_repair emit fill final_emit first_batch_scaledown_factor float
  geo geo_system group_format header identifier_format ignore_write_hook include_initial include_offsets include_states
  include_types index interleave ordered left_bound max_batch_bytes max_batch_rows max_batch_seconds max_dist max_results
  method min_batch_rows multi non_atomic nonvoting_replica_tags noreply num_vertices overwrite page page_limit params
  primary_key primary_replica_tag profile read_mode redirects replicas result_format return_changes return_vals
  right_bound shards squash time_format timeout unit use_outdated verify wait_for`.split(/\s+/),
);

/** Compiles the run options; each is an expression evaluated where a term falls back to it. */
export function compileGlobalOptargs(raw: Record<string, unknown>, specs: Map<number, TermSpec>): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const [name, value] of Object.entries(raw)) {
    if (!GLOBAL_OPTARGS.has(name)) throw compileError(`Unrecognized global optional argument \`${name}\`.`);
    out.set(name, compile(value, specs, []));
  }
  return out;
}

/** Compiles a query term (or a global optarg) against the terms this server implements. */
export function compile(raw: unknown, specs: Map<number, TermSpec>, bt: Frame[] = []): Node {
  const node = walk(raw, bt, undefined, true);
  check(node, specs, new Set(), 0);
  return node;
}

/** Whether a term tree always gives the same result (no table reads, randomness, JS or HTTP). */
export function isDeterministic(node: Node, allowNow: boolean): boolean {
  const t = node.type;
  if (t === T.TABLE || t === T.DB || t === T.JAVASCRIPT || t === T.HTTP || t === T.RANDOM) return false;
  if (t === T.UUID && node.args.length === 0) return false;
  if (t === T.NOW && !allowNow) return false;
  return node.args.every((a) => isDeterministic(a, allowNow)) && [...node.optargs.values()].every((a) => isDeterministic(a, allowNow));
}

/** A short readable rendering of a term, e.g. `GET_FIELD(VAR(1), "name")`. */
export function render(node: Node): string {
  if (node.type === T.DATUM) return JSON.stringify(node.datum ?? null);
  if (node.type === T.VAR) return `_var${String(node.args[0]?.datum)}`;
  if (node.type === T.MAKE_OBJ) return `{${[...node.optargs].map(([k, v]) => `${JSON.stringify(k)}: ${render(v)}`).join(', ')}}`;
  if (node.type === T.MAKE_ARRAY) return `[${node.args.map(render).join(', ')}]`;
  return `${TERM_NAMES.get(node.type)}(${node.args.map(render).join(', ')})`;
}

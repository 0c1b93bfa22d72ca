/** The evaluation core: term registry, scopes, lambdas, optargs (with global fallback) and r.args splicing. */
import { checkArgCount, funcParams, type Node, type TermSpec } from './compile.js';
import { asString, type Datum, type DObject, expectType, isObject, pretty, truncPretty, typeError } from './datum.js';
import { logicError, ReqlError, nonExistence } from './errors.js';
import { T } from './protocol.js';
import type { Store } from './store.js';
import { asDatum, asFunc, asSeq, datumVal, type Fn, type Seq, type Val } from './values.js';

export interface Scope {
  vars: Map<number, Datum>;
  /** The argument of the innermost one-argument function (r.row). */
  implicit?: Datum;
}

export const EMPTY_SCOPE: Scope = { vars: new Map() };

export interface TermDef extends TermSpec {
  type: number;
  run(c: Call): Val;
}

/** A term by its name in the protocol's term table, with its argument counts, optargs and evaluator. */
export function termDef(name: string, min: number, max: number, optargs: string[], run: (c: Call) => Val): TermDef {
  return { type: T[name], min, max, optargs, run };
}

const registry = new Map<number, TermDef>();

/** Adds implemented terms; each term file contributes a list. */
export function defineTerms(defs: TermDef[]): void {
  for (const d of defs) registry.set(d.type, d);
}

/** The specs of every implemented term, for the compiler. */
export function termSpecs(): Map<number, TermSpec> {
  return registry;
}

/** Shortcuts by which a datum stands in for a function, as the server's `as_func` allows per term. */
export type Shortcut = 'none' | 'constant' | 'field';

/** Per-query state: the store, global optargs and the query's fixed `r.now()`. */
export class Evaluator {
  constructor(
    readonly store: Store,
    readonly globalOptargs: Map<string, Node>,
    readonly startedAt: number,
  ) {}

  eval(node: Node, scope: Scope): Val {
    const def = registry.get(node.type);
    if (!def) throw logicError(`Term ${node.type} has no implementation.`);
    try {
      return def.run(new Call(this, def, node, scope));
    } catch (e) {
      if (e instanceof ReqlError && e.backtrace === undefined) e.backtrace = node.bt;
      throw e;
    }
  }

  /** A FUNC node closed over its scope. */
  lambda(node: Node, scope: Scope): Fn {
    const params = funcParams(node);
    const body = node.args[1];
    const callVal = (args: Datum[]): Val => {
      // The server lets zero-parameter functions take any arguments.
      if (params.length !== 0 && params.length !== args.length) {
        const s = (n: number): string => (n === 1 ? '' : 's');
        throw logicError(
          `Expected function with ${args.length} argument${s(args.length)} but found function with ${params.length} argument${s(params.length)}.`,
        );
      }
      const vars = new Map(scope.vars);
      params.forEach((p, i) => vars.set(p, args[i]));
      return this.eval(body, { vars, implicit: params.length === 1 ? args[0] : scope.implicit });
    };
    return { arity: params.length, bodyType: body.type, node, callVal, call: (args) => asDatum(callVal(args)) };
  }
}

/** A function that ignores its arguments and returns a datum (the server's constant shortcut). */
export function constantFn(d: Datum, bodyType: number): Fn {
  return { arity: undefined, bodyType, callVal: () => datumVal(d), call: () => d };
}

/** `row => row(field)`: the server's get-field shortcut (order_by('name'), index_create('name')). */
export function fieldFn(field: string): Fn {
  const call = (args: Datum[]): Datum => {
    const row = args[0];
    if (!isObject(row)) throw typeError(row, `Cannot perform get_field on a non-object non-sequence \`${truncPretty(row)}\`.`);
    return getField(row, field);
  };
  return { arity: 1, bodyType: T.GET_FIELD, callVal: (a) => datumVal(call(a)), call };
}

/** One evaluation of a term: lazy access to its arguments and optargs. */
export class Call {
  private readonly slots: (Node | Val)[];

  constructor(
    readonly ev: Evaluator,
    def: TermSpec,
    readonly node: Node,
    readonly scope: Scope,
  ) {
    if (node.args.some((a) => a.type === T.ARGS)) {
      // r.args splices an array into the argument list; its count can only be checked now.
      this.slots = [];
      for (const a of node.args) {
        if (a.type !== T.ARGS) this.slots.push(a);
        else {
          const arr = asDatum(ev.eval(a.args[0], scope));
          expectType(arr, 'ARRAY');
          for (const d of arr as Datum[]) this.slots.push(datumVal(d));
        }
      }
      checkArgCount(def, this.slots.length, node.bt);
    } else {
      this.slots = node.args;
    }
  }

  get n(): number {
    return this.slots.length;
  }

  /** The unevaluated argument node (undefined if it came from r.args). */
  rawArg(i: number): Node | undefined {
    const s = this.slots[i];
    return s && 'bt' in s ? s : undefined;
  }

  arg(i: number): Val {
    const s = this.slots[i];
    return 'bt' in s ? this.ev.eval(s, this.scope) : s;
  }

  datum(i: number): Datum {
    const v = this.arg(i);
    return this.blame(i, () => asDatum(v));
  }

  /** Runs `fn`, attributing errors it raises without a backtrace to argument i (or optarg `i`), as the server does. */
  blame<T>(i: number | string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const at = typeof i === 'number' ? this.rawArg(i) : this.node.optargs.get(i);
      if (e instanceof ReqlError && e.backtrace === undefined && at) e.backtrace = at.bt;
      throw e;
    }
  }

  /** Argument i as a sequence. */
  seq(i: number): Seq {
    const v = this.arg(i);
    return this.blame(i, () => asSeq(v));
  }

  /** Argument i as a string. */
  str(i: number): string {
    const d = this.datum(i);
    return this.blame(i, () => asString(d));
  }

  /** Argument i as a function, accepting the datum shortcuts this term allows. */
  func(i: number, shortcut: Shortcut): Fn {
    const raw = this.rawArg(i);
    if (raw?.type === T.FUNC) return this.ev.lambda(raw, this.scope);
    const v = this.arg(i);
    if (v.t === 'func' || shortcut === 'none') return asFunc(v);
    const d = asDatum(v);
    if (shortcut === 'field' && typeof d === 'string') return fieldFn(d);
    return constantFn(d, raw?.type ?? T.DATUM);
  }

  /** An optarg of the term, falling back to the query's global optargs as the server does. */
  opt(name: string): Val | undefined {
    const local = this.node.optargs.get(name);
    if (local) return this.ev.eval(local, this.scope);
    const global = this.ev.globalOptargs.get(name);
    return global ? this.ev.eval(global, { vars: new Map() }) : undefined;
  }

  optDatum(name: string): Datum | undefined {
    const v = this.opt(name);
    return v === undefined ? undefined : asDatum(v);
  }

  optBool(name: string, fallback: boolean): boolean {
    const d = this.optDatum(name);
    if (d === undefined) return fallback;
    expectType(d, 'BOOL');
    return d as boolean;
  }
}

/** Reads an object field the way GET_FIELD does. */
export function getField(obj: DObject, key: string): Datum {
  if (!Object.prototype.hasOwnProperty.call(obj, key)) throw nonExistence(`No attribute \`${key}\` in object:\n${pretty(obj)}`);
  return obj[key];
}

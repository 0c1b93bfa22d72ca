/** Databases, tables, secondary indexes, and the reads that start from a table: get, get_all, between. */
import { randomUUID } from 'node:crypto';
import { funcParams, isDeterministic, render } from './compile.js';
import { asInt, asString, compare, type Datum, type DObject, equal, truncPretty, typeName } from './datum.js';
import { type Call, defineTerms, fieldFn, type TermDef, termDef as def } from './evaluator.js';
import { logicError, nonExistence, notImplemented, opFailed } from './errors.js';
import { T } from './protocol.js';
import { checkPrimaryKey, Table } from './store.js';
import { asDb, asTable, datumVal, type Fn, seqVal, type Val } from './values.js';

const SYSTEM_DB = 'rethinkdb';

/** Database and table names: A-Z, a-z, 0-9, _ and - only. */
function name(c: Call, i: number, kind: 'Database' | 'Table'): string {
  const n = c.str(i);
  if (!/^[A-Za-z0-9_-]+$/.test(n)) {
    c.blame(i, () => {
      throw logicError(`${kind} name \`${n}\` invalid (Use A-Z, a-z, 0-9, _ and - only).`);
    });
  }
  return n;
}

/** TABLE, TABLE_CREATE, ... take an optional leading DB; without it the `db` (global) optarg applies. */
function dbAndName(c: Call, withDbArgs: number): { db: string; tableName: string } {
  if (c.n === withDbArgs) return { db: asDb(c.arg(0)), tableName: name(c, 1, 'Table') };
  const dbv = c.opt('db');
  return { db: dbv === undefined ? 'test' : dbv.t === 'db' ? dbv.name : asString(asDbOrName(dbv)), tableName: name(c, 0, 'Table') };
}

// The driver sends the run option `db` as a plain string; the server then expects a DB term there.
function asDbOrName(v: Val): Datum {
  if (v.t === 'datum' && typeof v.v === 'string') return v.v;
  return asDb(v);
}

function tableConfig(t: Table, server: string): DObject {
  return {
    db: t.db,
    durability: 'hard',
    id: t.id,
    indexes: [...t.indexes.keys()].sort(),
    name: t.name,
    primary_key: t.pk,
    shards: Array.from({ length: t.shards }, () => ({ nonvoting_replicas: [], primary_replica: server, replicas: [server] })),
    write_acks: 'majority',
    write_hook: null,
  };
}

function tableStatus(t: Table, server: string, allReady = true): DObject {
  return {
    db: t.db,
    id: t.id,
    name: t.name,
    raft_leader: server,
    shards: Array.from({ length: t.shards }, () => ({ primary_replicas: [server], replicas: [{ server, state: 'ready' }] })),
    status: { all_replicas_ready: allReady, ready_for_outdated_reads: true, ready_for_reads: true, ready_for_writes: true },
  };
}

/**
 * The `shards` and `replicas` optargs of table_create and reconfigure, checked in the real server's order and words.
 * This is a one-server cluster whose server has the tag `default`: more than one replica cannot be placed.
 */
function layoutOptargs(c: Call, required: boolean): { shards: number } {
  const shardsArg = c.optDatum('shards');
  const replicasArg = c.optDatum('replicas');
  if (required && replicasArg === undefined) throw logicError('Missing required argument `replicas`.');
  if (required && shardsArg === undefined) throw logicError('Missing required argument `shards`.');
  const shards = shardsArg === undefined ? 1 : c.blame('shards', () => {
    const n = asInt(shardsArg);
    if (n < 1) throw logicError('Every table must have at least one shard.');
    return n;
  });
  if (shards > 64) throw opFailed('Maximum number of shards is 64.');
  if (replicasArg !== undefined) {
    const kind = typeName(replicasArg);
    if (kind === 'OBJECT') throw notImplemented('Replicas per server tag');
    const replicas = c.blame('replicas', () => {
      if (kind !== 'NUMBER') throw logicError(`Expected type OBJECT or NUMBER but found ${kind}:\n${JSON.stringify(replicasArg)}`);
      return asInt(replicasArg);
    });
    if (replicas < 1) {
      throw opFailed('You must set `replicas` to at least one. `replicas` includes the primary replica; if there are zero replicas, there is nowhere to put the data.');
    }
    if (replicas > 1) {
      throw opFailed(`Can't put ${replicas} replicas on servers with the tag \`default\` because there are only 1 servers with the tag \`default\`. ` +
        "It's impossible to have more replicas of the data than there are servers.");
    }
  }
  return { shards };
}

function indexStatus(t: Table, index: string): DObject {
  const d = t.indexes.get(index)!;
  return {
    function: { $reql_type$: 'BINARY', data: Buffer.from(d.source).toString('base64') },
    geo: false,
    index,
    multi: d.multi,
    outdated: false,
    query: `indexCreate('${index}', ${d.source})`,
    ready: true,
  };
}

function indexStatuses(c: Call): Datum[] {
  const t = asTable(c.arg(0));
  const wanted = Array.from({ length: c.n - 1 }, (_, i) => asString(c.datum(i + 1)));
  for (const w of wanted) if (!t.indexes.has(w)) throw opFailed(`Index \`${w}\` was not found on table \`${t.display}\`.`);
  return [...t.indexes.keys()].sort().filter((i) => wanted.length === 0 || wanted.includes(i)).map((i) => indexStatus(t, i));
}

function openBound(c: Call, key: string, fallback: boolean): boolean {
  const v = c.optDatum(key);
  if (v === undefined) return fallback;
  if (v === 'open') return true;
  if (v === 'closed') return false;
  throw logicError(`Expected \`open\` or \`closed\` for optarg \`${key}\` (got \`${truncPretty(v)}\`).`);
}

function between(c: Call): Val {
  const v = c.arg(0);
  if (v.t !== 'slice') throw logicError(`Expected type TABLE_SLICE but found ${v.t === 'seq' ? 'SELECTION' : 'DATUM'}.`);
  const bound = (i: number): Datum => {
    const d = c.datum(i);
    if (d === null) c.blame(i, () => { throw logicError('Cannot use `null` in BETWEEN, use `r.minval` or `r.maxval` to denote unboundedness.'); });
    return d;
  };
  const left = bound(1);
  const right = bound(2);
  const index = c.optDatum('index') === undefined ? v.index : asString(c.optDatum('index')!);
  if (v.bounds) throw logicError('Cannot perform multiple BETWEENs on the same table.');
  if (v.order && index !== v.index) throw logicError(`Cannot call BETWEEN on index \`${index}\` after ordering on index \`${v.index}\`.`);
  if (index !== v.table.pk && !v.table.indexes.has(index)) throw opFailed(`Index \`${index}\` was not found on table \`${v.table.display}\`.`);
  const bounds = { left, right, leftOpen: openBound(c, 'left_bound', false), rightOpen: openBound(c, 'right_bound', true) };
  return { t: 'slice', table: v.table, index, bounds, order: v.order };
}

function getAll(c: Call): Val {
  const t = asTable(c.arg(0));
  const index = c.optDatum('index') === undefined ? t.pk : asString(c.optDatum('index')!);
  if (index !== t.pk && !t.indexes.has(index)) throw opFailed(`Index \`${index}\` was not found on table \`${t.display}\`.`);
  const keys: Datum[] = [];
  for (let i = 1; i < c.n; i++) {
    const k = c.datum(i);
    if (k === null) c.blame(i, () => { throw nonExistence('Keys cannot be NULL.'); });
    keys.push(k);
  }
  // Keys are looked up in key order; a key given twice returns its rows twice.
  keys.sort(compare);
  let rows: DObject[];
  if (index === t.pk) {
    rows = keys.map((k) => t.get(k)).filter((r): r is DObject => r !== null);
  } else {
    const entries = t.indexEntries(index);
    rows = keys.flatMap((k) => entries.filter((e) => equal(e.value, k)).map((e) => e.row));
  }
  rows = t.unordered(rows, (row) => row);
  const transform = (row: DObject): Datum | undefined => {
    const values = index === t.pk ? [row[t.pk]] : t.indexValues(index, row);
    return values.some((v) => keys.some((k) => equal(v, k))) ? row : undefined;
  };
  return seqVal({ rows, stream: true, table: t, feed: { table: t, transform } });
}

/** The index function and a readable rendering of it (the real server prints it as JavaScript). */
function indexFn(c: Call, index: string): { fn: Fn; source: string } {
  if (c.n < 3) return { fn: fieldFn(index), source: `function(_var1) { return _var1.getField(${JSON.stringify(index)}); }` };
  const raw = c.rawArg(2);
  if (raw?.type !== T.FUNC) throw notImplemented('Index functions given as BINARY');
  if (!isDeterministic(raw.args[1], false)) {
    const e = logicError('Could not prove function deterministic.  Index functions must be deterministic.');
    e.backtrace = raw.args[1].bt;
    throw e;
  }
  const params = funcParams(raw).map((p) => `_var${p}`);
  return { fn: c.ev.lambda(raw, c.scope), source: `function(${params.join(', ')}) { return ${render(raw.args[1])}; }` };
}

export const tableTerms: TermDef[] = [
  def('DB', 1, 1, [], (c) => {
    const db = name(c, 0, 'Database');
    if (db !== SYSTEM_DB) c.ev.store.dbTables(db);
    return { t: 'db', name: db };
  }),
  def('TABLE', 1, 2, ['read_mode', 'identifier_format'], (c) => {
    const { db, tableName } = dbAndName(c, 2);
    if (db === SYSTEM_DB) throw notImplemented(`The system table \`rethinkdb.${tableName}\``);
    return { t: 'slice', table: c.ev.store.table(db, tableName), index: c.ev.store.table(db, tableName).pk };
  }),
  def('GET', 2, 2, [], (c) => {
    const t = asTable(c.arg(0));
    const key = c.datum(1);
    checkPrimaryKey(key);
    return { t: 'single', table: t, key, row: t.get(key) };
  }),
  def('GET_ALL', 1, -1, ['index'], getAll),
  def('BETWEEN', 3, 3, ['index', 'left_bound', 'right_bound'], between),
  def('DB_CREATE', 1, 1, [], (c) => {
    const db = name(c, 0, 'Database');
    const { dbs, dbIds } = c.ev.store;
    if (db === SYSTEM_DB || dbs.has(db)) throw opFailed(`Database \`${db}\` already exists.`);
    dbs.set(db, new Map());
    dbIds.set(db, randomUUID());
    return datumVal({ config_changes: [{ new_val: { id: dbIds.get(db)!, name: db }, old_val: null }], dbs_created: 1 });
  }),
  def('DB_DROP', 1, 1, [], (c) => {
    const db = name(c, 0, 'Database');
    if (db === SYSTEM_DB) throw opFailed(`Database \`${db}\` is special; you can't delete it.`);
    const tables = c.ev.store.dbTables(db);
    for (const t of tables.values()) t.abortListeners('Changefeed aborted (unavailable).');
    const id = c.ev.store.dbIds.get(db)!;
    c.ev.store.dbs.delete(db);
    c.ev.store.dbIds.delete(db);
    return datumVal({ config_changes: [{ new_val: null, old_val: { id, name: db } }], dbs_dropped: 1, tables_dropped: tables.size });
  }),
  def('DB_LIST', 0, 0, [], (c) => datumVal([SYSTEM_DB, ...c.ev.store.dbs.keys()].sort())),
  def('TABLE_CREATE', 1, 2, ['primary_key', 'shards', 'replicas', 'nonvoting_replica_tags', 'primary_replica_tag', 'durability'], (c) => {
    const { db, tableName } = dbAndName(c, 2);
    if (db === SYSTEM_DB) throw opFailed(`Database \`${db}\` is special; you can't create new tables in it.`);
    const tables = c.ev.store.dbTables(db);
    if (tables.has(tableName)) throw opFailed(`Table \`${db}.${tableName}\` already exists.`);
    const { shards } = layoutOptargs(c, false);
    const pk = c.optDatum('primary_key');
    const table = new Table(db, tableName, pk === undefined ? 'id' : asString(pk));
    table.shards = shards;
    tables.set(tableName, table);
    return datumVal({ config_changes: [{ new_val: tableConfig(table, c.ev.store.serverName), old_val: null }], tables_created: 1 });
  }),
  def('TABLE_DROP', 1, 2, [], (c) => {
    const { db, tableName } = dbAndName(c, 2);
    if (db === SYSTEM_DB) throw opFailed(`Database \`${db}\` is special; you can't drop tables in it.`);
    const table = c.ev.store.table(db, tableName);
    const config = tableConfig(table, c.ev.store.serverName);
    c.ev.store.dbTables(db).delete(tableName);
    table.abortListeners('Changefeed aborted (unavailable).');
    return datumVal({ config_changes: [{ new_val: null, old_val: config }], tables_dropped: 1 });
  }),
  def('TABLE_LIST', 0, 1, [], (c) => {
    const db = c.n === 1 ? asDb(c.arg(0)) : String(asDbOrName(c.opt('db') ?? datumVal('test')));
    if (db === SYSTEM_DB) {
      return datumVal(
        'cluster_config current_issues db_config jobs logs permissions server_config server_status stats table_config table_status users'.split(' '),
      );
    }
    return datumVal([...c.ev.store.dbTables(db).keys()].sort());
  }),
  def('CONFIG', 1, 1, [], (c) => {
    const v = c.arg(0);
    if (v.t === 'db') {
      c.ev.store.dbTables(v.name);
      return datumVal({ id: c.ev.store.dbIds.get(v.name)!, name: v.name });
    }
    return datumVal(tableConfig(asTable(v), c.ev.store.serverName));
  }),
  def('RECONFIGURE', 1, 1, ['shards', 'replicas', 'primary_replica_tag', 'nonvoting_replica_tags', 'dry_run', 'emergency_repair'], (c) => {
    const t = asTable(c.arg(0));
    for (const o of ['primary_replica_tag', 'nonvoting_replica_tags', 'dry_run', 'emergency_repair']) {
      if (c.optDatum(o) !== undefined) throw notImplemented(`reconfigure with ${o}`);
    }
    const { shards } = layoutOptargs(c, true);
    const server = c.ev.store.serverName;
    const [oldConfig, oldStatus] = [tableConfig(t, server), tableStatus(t, server)];
    const moved = t.shards !== shards;
    t.shards = shards;
    // The real server answers reconfigured: 1 even when nothing changed; right after a change of shards not all replicas are ready.
    return datumVal({
      config_changes: [{ new_val: tableConfig(t, server), old_val: oldConfig }],
      reconfigured: 1,
      status_changes: [{ new_val: tableStatus(t, server, !moved), old_val: oldStatus }],
    });
  }),
  def('INDEX_CREATE', 2, 3, ['multi', 'geo'], (c) => {
    const t = asTable(c.arg(0));
    const index = asString(c.datum(1));
    if (index === t.pk) throw logicError(`Index name conflict: \`${index}\` is the name of the primary key.`);
    const { fn, source } = indexFn(c, index);
    if (c.optBool('geo', false)) throw notImplemented('Geospatial indexes');
    if (t.indexes.has(index)) throw opFailed(`Index \`${index}\` already exists on table \`${t.display}\`.`);
    // The real server builds indexes in the background (index_wait waits for that); here they are ready at once.
    t.indexes.set(index, { name: index, multi: c.optBool('multi', false), fn: (row) => fn.call([row]), source });
    return datumVal({ created: 1 });
  }),
  def('INDEX_DROP', 2, 2, [], (c) => {
    const t = asTable(c.arg(0));
    const index = asString(c.datum(1));
    if (!t.indexes.delete(index)) throw opFailed(`Index \`${index}\` does not exist on table \`${t.display}\`.`);
    return datumVal({ dropped: 1 });
  }),
  def('INDEX_LIST', 1, 1, [], (c) => datumVal([...asTable(c.arg(0)).indexes.keys()].sort())),
  def('INDEX_STATUS', 1, -1, [], (c) => datumVal(indexStatuses(c))),
  def('INDEX_WAIT', 1, -1, [], (c) => datumVal(indexStatuses(c))),
  def('WAIT', 0, 1, ['timeout', 'wait_for'], (c) => {
    if (c.n === 0) throw logicError('`wait` can only be called on a table or database.');
    const states = ['ready_for_outdated_reads', 'ready_for_reads', 'ready_for_writes', 'all_replicas_ready'];
    const waitFor = c.optDatum('wait_for');
    if (waitFor !== undefined && !states.includes(asString(waitFor))) {
      throw logicError(`Unknown table readiness state: '${asString(waitFor)}', must be one of '${states.slice(0, 3).join("', '")}', or '${states[3]}'`);
    }
    // Tables here are always ready; the real server answers {ready: 1} for a table, {ready: N tables} for a db.
    const v = c.arg(0);
    if (v.t === 'db') return datumVal({ ready: c.ev.store.dbTables(v.name).size });
    asTable(v);
    return datumVal({ ready: 1 });
  }),
];

defineTerms(tableTerms);

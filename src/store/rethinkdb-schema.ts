/** What the RethinkDB store needs in its database (tables, secondary indexes), created by init and checked by verify. */
import { r, type RDatum } from 'rethinkdb-ts';
import { errors } from '../core/errors.js';
import type { RethinkPool } from './rethinkdb-pool.js';

export const TABLES = ['monitors', 'reactions', 'history', 'events', 'zone_views', 'reaction_runs', 'api_keys', 'signals', 'targets'] as const;
export type TableName = (typeof TABLES)[number];

export interface IndexSpec {
  table: TableName;
  name: string;
  fields: string[];
}

/** history, events and zone views by monitor and time; events and zone views by time; API keys by hash; signals by when they were stored. */
export const INDEXES: IndexSpec[] = [
  { table: 'history', name: 'monitor_checkedAt', fields: ['monitorId', 'checkedAt'] },
  { table: 'events', name: 'monitor_at', fields: ['monitorId', 'at'] },
  { table: 'events', name: 'at', fields: ['at'] },
  { table: 'zone_views', name: 'monitor_at', fields: ['monitorId', 'at'] },
  { table: 'zone_views', name: 'at', fields: ['at'] },
  { table: 'api_keys', name: 'hash', fields: ['hash'] },
  { table: 'signals', name: 'storedAt', fields: ['storedAt'] },
];

/** How a table is spread over the cluster: copies of each shard, and shards. */
export interface TableLayout {
  replicas: number;
  shards: number;
}

export interface TableLayoutOf extends TableLayout {
  table: TableName;
}

/** What createSchema changed: what it created ("table signals", "index signals.storedAt") and the tables it reconfigured. */
export interface SchemaReport {
  created: string[];
  reconfigured: { table: TableName; from: TableLayout; to: TableLayout }[];
}

/** Waiting for tables and index builds may take longer than one ordinary query. */
const BUILD_TIMEOUT_MS = 120_000;

/** "2 replicas, 1 shard". */
export const describeLayout = (l: TableLayout) => `${l.replicas} replica${l.replicas === 1 ? '' : 's'}, ${l.shards} shard${l.shards === 1 ? '' : 's'}`;

/**
 * Creates the database, tables and indexes that are missing and waits until they are ready; safe to run again and
 * concurrently. With `layout`, new tables are created with it and existing ones whose replicas or shards differ are
 * reconfigured to it (a part not given keeps each table's own).
 */
export async function createSchema(pool: RethinkPool, db: string, layout: Partial<TableLayout> = {}): Promise<SchemaReport> {
  const report: SchemaReport = { created: [], reconfigured: [] };
  const dbs = await pool.run('listing databases', r.dbList());
  if (!dbs.includes(db)) {
    await unlessExists(pool.run(`creating database ${db}`, r.dbCreate(db)));
    report.created.push(`database ${db}`);
  }
  const tables = await pool.run(`listing the tables of ${db}`, r.db(db).tableList());
  const given = { ...(layout.replicas === undefined ? {} : { replicas: layout.replicas }), ...(layout.shards === undefined ? {} : { shards: layout.shards }) };
  for (const t of TABLES) {
    if (tables.includes(t)) continue;
    const how = Object.keys(given).length ? ` with ${Object.entries(given).map(([k, v]) => `${v} ${k}`).join(', ')}` : '';
    await unlessExists(pool.run(`creating table ${db}.${t}${how}`, r.db(db).tableCreate(t, given)));
    report.created.push(`table ${t}`);
  }
  if (Object.keys(given).length) {
    for (const { table, ...from } of await tableLayouts(pool, db)) {
      if (!tables.includes(table)) continue;
      const to = { replicas: layout.replicas ?? from.replicas, shards: layout.shards ?? from.shards };
      if (to.replicas === from.replicas && to.shards === from.shards) continue;
      await pool.run(`reconfiguring table ${db}.${table} from ${describeLayout(from)} to ${describeLayout(to)}`, r.db(db).table(table).reconfigure(to), {}, BUILD_TIMEOUT_MS);
      report.reconfigured.push({ table, from, to });
    }
  }
  for (const t of TABLES) {
    await pool.run(`waiting for table ${db}.${t}`, r.db(db).table(t).wait({ waitFor: 'ready_for_writes' }), {}, BUILD_TIMEOUT_MS);
  }
  for (const t of new Set(INDEXES.map((i) => i.table))) {
    const table = r.db(db).table(t);
    const have = await pool.run(`listing the indexes of ${db}.${t}`, table.indexList());
    const wanted = INDEXES.filter((i) => i.table === t);
    for (const { name, fields } of wanted) {
      if (have.includes(name)) continue;
      const create = fields.length === 1
        ? table.indexCreate(name, (row: RDatum) => row(fields[0]!))
        : table.indexCreate(name, (row: RDatum) => fields.map((f) => row(f)));
      await unlessExists(pool.run(`creating index ${name} on ${db}.${t}`, create));
      report.created.push(`index ${t}.${name}`);
    }
    await pool.run(`waiting for the indexes of ${db}.${t}`, table.indexWait(...wanted.map((i) => i.name)), {}, BUILD_TIMEOUT_MS);
  }
  return report;
}

interface TableConfig {
  shards: { replicas: string[] }[];
}

/** Replicas (of the most replicated shard) and shards of each table of the schema that exists, from its config(). */
export async function tableLayouts(pool: RethinkPool, db: string): Promise<TableLayoutOf[]> {
  const tables = await pool.run(`listing the tables of ${db}`, r.db(db).tableList());
  const present = TABLES.filter((t) => tables.includes(t));
  const configs = await Promise.all(present.map((t) =>
    pool.run(`reading the configuration of table ${db}.${t}`, r.db(db).table(t).config()) as unknown as Promise<TableConfig>));
  return configs.map((c, i) => ({ table: present[i]!, replicas: Math.max(...c.shards.map((s) => s.replicas.length)), shards: c.shards.length }));
}

/** What createSchema would create, as readable names ("table history", "index events.at"); empty when all is there. */
export async function missingSchema(pool: RethinkPool, db: string): Promise<string[]> {
  const dbs = await pool.run('listing databases', r.dbList());
  if (!dbs.includes(db)) return [`database ${db}`];
  const tables = await pool.run(`listing the tables of ${db}`, r.db(db).tableList());
  const missing: string[] = TABLES.filter((t) => !tables.includes(t)).map((t) => `table ${t}`);
  for (const t of new Set(INDEXES.map((i) => i.table))) {
    if (!tables.includes(t)) continue;
    const have = await pool.run(`listing the indexes of ${db}.${t}`, r.db(db).table(t).indexList());
    for (const i of INDEXES) if (i.table === t && !have.includes(i.name)) missing.push(`index ${t}.${i.name}`);
  }
  return missing;
}

/** Throws CR_STORE naming what is missing and saying to run "cloudroutes store init". */
export async function checkSchema(pool: RethinkPool, db: string): Promise<void> {
  const missing = await missingSchema(pool, db);
  if (missing.length === 0) return;
  throw errors.store(
    `RethinkDB ${pool.where} database ${db} is not set up: missing ${missing.join(', ')}; ` +
    'run "cloudroutes store init" once (with the same CLOUDROUTES_STORE) to create it');
}

/** Another process creating the same thing at the same time is fine. */
async function unlessExists(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!/already exists/.test((err as Error).message)) throw err;
  }
}

/** In-memory databases, tables, rows and secondary indexes, with change notification for changefeeds. */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Datum, type DObject, compare, isObject, reqlType, toJson, typeError, typeName, truncPretty } from './datum.js';
import { logicError, opFailed } from './errors.js';

export interface IndexDef {
  name: string;
  multi: boolean;
  /** The index function; throws for rows that have no index value. */
  fn: (row: DObject) => Datum;
  /** The function's source, reported by index_status/index_wait. */
  source: string;
}

/** Receives every committed change of a table, and the end of the table. */
export interface TableListener {
  onChange(oldVal: DObject | null, newVal: DObject | null): void;
  onAbort(message: string): void;
}

export interface IndexEntry {
  value: Datum;
  row: DObject;
}

/** Secondary index values must be numbers, strings, bools, pseudotypes or arrays; null and plain objects are not indexed. */
function indexable(d: Datum): boolean {
  const t = typeName(d);
  return t === 'NUMBER' || t === 'STRING' || t === 'BOOL' || t === 'ARRAY' || t.startsWith('PTYPE<');
}

export class Table {
  readonly id = randomUUID();
  private readonly rows = new Map<string, DObject>();
  readonly indexes = new Map<string, IndexDef>();
  readonly listeners = new Set<TableListener>();
  private sortedCache: DObject[] | undefined;
  private readonly entryCache = new Map<string, IndexEntry[]>();

  /** Shards of the table's configuration (reported by config(), set by table_create and reconfigure; the rows are not split). */
  shards = 1;

  constructor(
    readonly db: string,
    readonly name: string,
    readonly pk: string,
  ) {}

  /** `db.table`, as the server names tables in messages. */
  get display(): string {
    return `${this.db}.${this.name}`;
  }

  get size(): number {
    return this.rows.size;
  }

  get(key: Datum): DObject | null {
    return this.rows.get(toJson(key)) ?? null;
  }

  /** All rows in primary key order (a single shard's B-tree order). */
  sorted(): DObject[] {
    if (!this.sortedCache) {
      this.sortedCache = [...this.rows.values()].sort((a, b) => compare(a[this.pk], b[this.pk]));
    }
    return this.sortedCache;
  }

  /** Stores or (with null) deletes the row with this key and tells the listeners. */
  write(key: Datum, row: DObject | null): void {
    const k = toJson(key);
    const old = this.rows.get(k) ?? null;
    if (row === null) this.rows.delete(k);
    else this.rows.set(k, row);
    this.sortedCache = undefined;
    this.entryCache.clear();
    for (const l of [...this.listeners]) l.onChange(old, row);
  }

  /** The values a row has in an index (several for a multi index, none when the function fails). */
  indexValues(name: string, row: DObject): Datum[] {
    const def = this.indexes.get(name);
    if (!def) throw opFailed(`Index \`${name}\` was not found on table \`${this.display}\`.`);
    let value: Datum;
    try {
      value = def.fn(row);
    } catch {
      return [];
    }
    if (def.multi && Array.isArray(value)) return value.filter(indexable);
    return indexable(value) ? [value] : [];
  }

  /** Index entries ordered by value, then primary key, as the index B-tree holds them. */
  indexEntries(name: string): IndexEntry[] {
    let entries = this.entryCache.get(name);
    if (!entries) {
      entries = [];
      for (const row of this.sorted()) for (const value of this.indexValues(name, row)) entries.push({ value, row });
      entries.sort((a, b) => compare(a.value, b.value) || compare(a.row[this.pk], b.row[this.pk]));
      this.entryCache.set(name, entries);
    }
    return entries;
  }

  /**
   * Rows in the order an unordered read returns them. The real server splits each table into 8 hash shards
   * ("CPU sharding") and interleaves their key-ordered streams, so a table scan, get_all or unordered between
   * comes back in no useful order (ids 1..20 came back as 20,4,5,3,2,1,6,...). This copies the idea, not the
   * hash: rows go to 8 buckets by a hash of the primary key and the buckets are interleaved, so code that
   * wrongly relies on key order fails here as it would on a real server.
   */
  unordered<T>(items: T[], row: (item: T) => DObject): T[] {
    const buckets: T[][] = Array.from({ length: 8 }, () => []);
    for (const item of items) buckets[hashShard(toJson(row(item)[this.pk]))].push(item);
    const out: T[] = [];
    for (let i = 0; out.length < items.length; i++) for (const b of buckets) if (i < b.length) out.push(b[i]);
    return out;
  }

  /** Ends every changefeed on this table (it was dropped). */
  abortListeners(message: string): void {
    for (const l of [...this.listeners]) l.onAbort(message);
    this.listeners.clear();
  }
}

function hashShard(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 8;
}

/** Checks a primary key value the way the server does before storing or looking it up. */
export function checkPrimaryKey(key: Datum): void {
  const t = typeName(key);
  if (t === 'NULL' || t === 'OBJECT' || t === 'MINVAL' || t === 'MAXVAL' || (isObject(key) && reqlType(key) === 'LITERAL')) {
    throw typeError(key, `Primary keys must be either a number, string, bool, pseudotype or array (got type ${t}):\n${truncPretty(key)}`);
  }
  // The server's B-tree keys hold at most 127 bytes of encoded primary key.
  if (typeof key === 'string' && Buffer.byteLength(key) > 127) {
    throw logicError(`Primary key too long (max 127 characters): ${JSON.stringify(key)}`);
  }
}

/** The databases of one server. A new server has `rethinkdb` (system) and `test`. */
export class Store {
  readonly dbs = new Map<string, Map<string, Table>>([['test', new Map()]]);
  readonly dbIds = new Map<string, string>([['test', randomUUID()]]);
  readonly serverId = randomUUID();
  /** Like a real server's default name: the host name (A-Z, a-z, 0-9, _ only) and a random number, e.g. `vm_454`. */
  readonly serverName = `${hostname().replace(/[^A-Za-z0-9_]/g, '_')}_${Math.floor(Math.random() * 1000)}`;

  dbTables(db: string): Map<string, Table> {
    const tables = this.dbs.get(db);
    if (!tables) throw opFailed(`Database \`${db}\` does not exist.`);
    return tables;
  }

  table(db: string, name: string): Table {
    const table = this.dbTables(db).get(name);
    if (!table) throw opFailed(`Table \`${db}.${name}\` does not exist.`);
    return table;
  }
}

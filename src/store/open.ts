/** Opens the store of record named by the CLOUDROUTES_STORE setting. */
import { resolve } from 'node:path';
import { errors } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { RethinkStore } from './rethinkdb.js';
import { parseRethinkUrl } from './rethinkdb-url.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export interface OpenStoreOptions {
  /** Create what the store needs (RethinkDB: database, tables, indexes) instead of only checking it is there. */
  init?: boolean;
  /** Receives the store's connection messages (RethinkDB: lost, reconnected). */
  logger?: Logger;
}

/**
 * Opens the store for `spec`: `sqlite:<path>` (created and initialised on open, it is embedded) or
 * `rethinkdb://[user[:password]@]host[:port][,host[:port]...]/<db>` (connects, then verifies the
 * schema, or creates it with `init: true`).
 */
export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<Store> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw errors.badSetting('CLOUDROUTES_STORE', spec, 'expected sqlite:<path>, e.g. sqlite:data/cloudroutes.db');
    const store = new SqliteStore(path === ':memory:' ? path : resolve(path));
    await store.init();
    return store;
  }
  if (spec.startsWith('rethinkdb://')) {
    const store = new RethinkStore(parseRethinkUrl(spec), { logger: opts.logger });
    await store.connect();
    try {
      await (opts.init ? store.init() : store.verify());
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }
  throw errors.badSetting('CLOUDROUTES_STORE', spec, 'expected sqlite:<path> or rethinkdb://host:28015/<db>');
}

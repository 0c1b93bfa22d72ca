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
  /** SQLite: how long a write waits for another process's lock (ms); it blocks the event loop meanwhile. */
  busyTimeoutMs?: number;
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
    const store = new SqliteStore(path === ':memory:' ? path : resolve(path), { busyTimeoutMs: opts.busyTimeoutMs });
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

/** Opens the store, retrying with backoff (logged once, and once more when it works) until it opens. */
export async function openStoreRetrying(spec: string, opts: OpenStoreOptions & { logger: Logger }): Promise<Store> {
  let delay = 500;
  let said = false;
  for (;;) {
    try {
      const store = await openStore(spec, opts);
      if (said) opts.logger.info({ store: spec }, 'store of record reachable');
      return store;
    } catch (err) {
      if (!said) opts.logger.error({ store: spec, err: (err as Error).message }, 'store of record unreachable; retrying with backoff');
      said = true;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10_000);
    }
  }
}

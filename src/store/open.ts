/** Opens the store of record named by the CLOUDROUTES_STORE setting. */
import { resolve } from 'node:path';
import { errors } from '../core/errors.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

/** Opens and initialises the store for `spec`: `sqlite:<path>` (or `rethinkdb://...` once its adapter exists). */
export async function openStore(spec: string): Promise<Store> {
  if (spec.startsWith('sqlite:')) {
    const path = spec.slice('sqlite:'.length);
    if (!path) throw errors.badSetting('CLOUDROUTES_STORE', spec, 'expected sqlite:<path>, e.g. sqlite:data/cloudroutes.db');
    const store = new SqliteStore(path === ':memory:' ? path : resolve(path));
    await store.init();
    return store;
  }
  if (spec.startsWith('rethinkdb://')) throw errors.store('the RethinkDB adapter is not available yet; use sqlite:<path>');
  throw errors.badSetting('CLOUDROUTES_STORE', spec, 'expected sqlite:<path> or rethinkdb://host:28015/<db>');
}

/** Starts the web process in this test process against a real Redis and store, with an API key made through the store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSettings, type BrokerPorts } from '../../src/core/config.js';
import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import type { CurveClient } from '../../src/core/socket-options.js';
import { createApiKey } from '../../src/web/api-keys.js';
import { startWeb, type Web } from '../../src/web/start.js';
import { silent } from './cluster.js';
import { freePortRange } from './redis-server.js';

export interface WebFixture {
  web: Web;
  store: Store;
  /** A read-write key and a read-only key. */
  key: string;
  readKey: string;
  /** fetch() against the web process with the read-write key unless `key` is given (null: none). */
  call(path: string, init?: RequestInit & { key?: string | null }): Promise<Response>;
  stop(): Promise<void>;
}

/** Starts the web process for `redisUrl` with a fresh SQLite store in a temp dir. */
export async function startWebFixture(
  redisUrl: string, env: Record<string, string> = {},
  { ports, ...opts }: { authCooldownMs?: number; metricsNeedKey?: boolean; curve?: CurveClient; /** the broker ports of a test cluster, so pushed results reach its sink */ ports?: BrokerPorts } = {},
): Promise<WebFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'cr-web-'));
  const settings = loadSettings({
    REDIS_URL: redisUrl, CLOUDROUTES_STORE: `sqlite:${join(dir, 'store.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_SECRET_KEY: '12'.repeat(32), ...env,
  });
  if (ports) settings.ports = ports;
  const store = await openStore(settings.store);
  const { key } = await createApiKey(store, 'tests', false);
  const { key: readKey } = await createApiKey(store, 'reader', true);
  const web = await startWeb({ settings, logger: silent, host: '127.0.0.1', port: 0, ...opts });
  return {
    web, store, key, readKey,
    call(path, init = {}) {
      const { key: k = key, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (k) headers.set('authorization', `Bearer ${k}`);
      return fetch(`${web.url}${path}`, { ...rest, headers });
    },
    async stop() {
      await web.stop();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge } from '../src/bridge/bridge.js';
import { loadSettings } from '../src/core/config.js';
import { keys } from '../src/core/keys.js';
import { MAX_DATA_BYTES, MAX_INTERVAL_S, MAX_NAME_LENGTH } from '../src/core/limits.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { waitFor } from './helpers/cluster.js';
import { RedisServer } from './helpers/redis-server.js';
import { monitor, reaction } from './helpers/store-suite.js';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-bridge-limits-'));
let redis: Redis;

test.before(async () => {
  await server.start();
  redis = server.client();
});
test.after(async () => {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Records written straight into the store, as a script or another tool might, each with one value no entry point takes. */
const BAD_MONITORS = {
  'm-huge': { interval: 1e308 },
  'm-week': { interval: MAX_INTERVAL_S + 1 },
  'm-neg': { interval: -1 },
  'm-frac': { interval: 0.5 },
  'm-timeout': { data: { url: 'http://127.0.0.1/', timeoutMs: -1 } },
  'm-slowest': { data: { url: 'http://127.0.0.1/', timeoutMs: 1e308 } },
  'm-name': { name: 'x'.repeat(MAX_NAME_LENGTH + 1) },
  'm-data': { data: { url: 'http://127.0.0.1/', blob: 'x'.repeat(MAX_DATA_BYTES) } },
  'm-ctype': { ctype: '../../bin/sh' },
} as const;
const FIELDS: Record<keyof typeof BAD_MONITORS, string> = {
  'm-huge': 'interval', 'm-week': 'interval', 'm-neg': 'interval', 'm-frac': 'interval', 'm-timeout': 'data.timeoutMs', 'm-slowest': 'data.timeoutMs',
  'm-name': 'name', 'm-data': 'data', 'm-ctype': 'ctype',
};

test('records in the store that no entry point would take are refused by the bridge, logged and counted; the rest is applied', async () => {
  const zone = 'refused';
  const k = keys(zone);
  const store = new SqliteStore(join(dir, `${zone}.db`));
  await store.init();
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const settings = loadSettings({ REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${join(dir, `${zone}.db`)}`, CLOUDROUTES_DATA_DIR: dir });
  for (const [id, over] of Object.entries(BAD_MONITORS)) await store.putMonitor(monitor(id, over as never));
  await store.putMonitor(monitor('m-ok', { interval: MAX_INTERVAL_S }));
  await store.putReaction(reaction('r-often', { frequency: 1e308 }));
  await store.putReaction(reaction('r-trigger', { trigger: 0 }));
  await store.putReaction(reaction('r-ok'));
  const bridge = await startBridge({ settings, logger, store });
  try {
    await bridge.ready;
    assert.is(await redis.hget(k.intervals, 'm-ok'), String(MAX_INTERVAL_S * 1000), 'the valid monitor is applied');
    assert.ok(await redis.get(k.reaction('r-ok')), 'the valid reaction is applied');
    for (const id of Object.keys(BAD_MONITORS)) {
      assert.is(await redis.get(k.monitor(id)), null, `${id} is not in Redis`);
      assert.is(await redis.zscore(k.schedule, id), null, `${id} is not scheduled`);
      const line = logs.find((l) => l.monitorId === id && l.level === 50);
      assert.ok(line, `a log line for ${id}`);
      assert.is(line!.field, FIELDS[id as keyof typeof BAD_MONITORS], id);
      assert.match(String(line!.msg), new RegExp(`invalid \\(${FIELDS[id as keyof typeof BAD_MONITORS].replace('.', '\\.')}\\).*cloudroutes monitor edit ${id}`));
    }
    assert.is(await redis.get(k.reaction('r-often')), null);
    assert.is(await redis.get(k.reaction('r-trigger')), null);
    assert.is(logs.find((l) => l.reactionId === 'r-often')?.field, 'frequency');
    assert.is(logs.find((l) => l.reactionId === 'r-trigger')?.field, 'trigger');
    assert.is(bridge.counters.get('monitors_refused'), Object.keys(BAD_MONITORS).length);
    assert.is(bridge.counters.get('reactions_refused'), 2);
    await bridge.counters.flush();
    assert.is(await redis.hget(k.counters, 'bridge.monitors_refused'), String(Object.keys(BAD_MONITORS).length), 'counted for "cloudroutes stats"');

    // Through the change feed: a valid monitor broken in the store leaves Redis; mended, it comes back.
    await store.putMonitor(monitor('m-ok', { interval: 1e308 }));
    await waitFor(async () => (await redis.get(k.monitor('m-ok'))) === null, 5000, 'the broken monitor removed from Redis');
    assert.is(await redis.hget(k.intervals, 'm-ok'), null);
    assert.is(bridge.counters.get('monitors_refused'), Object.keys(BAD_MONITORS).length + 1);
    await store.putMonitor(monitor('m-ok', { interval: 60 }));
    await waitFor(async () => (await redis.hget(k.intervals, 'm-ok')) === '60000', 5000, 'the mended monitor applied again');
  } finally {
    await bridge.stop();
    await store.close();
  }
});

test.run();

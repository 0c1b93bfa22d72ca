// The signal sync of told monitors against a real Redis and a real SQLite store: which stored signals reach this zone's Redis, and with what TTL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SignalSync, ToldSet } from '../src/bridge/signal-sync.js';
import { Counters } from '../src/core/counters.js';
import { keys } from '../src/core/keys.js';
import { readSignal, SIGNAL_MIN_TTL_S } from '../src/core/signals.js';
import type { Store } from '../src/store/store.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { useRedis } from './helpers/redis-server.js';
import { monitor } from './helpers/store-suite.js';

const fx = useRedis(test, true);
const dir = mkdtempSync(join(tmpdir(), 'cr-bridge-signals-'));
let n = 0;
test.after(() => rmSync(dir, { recursive: true, force: true }));

const told = (id: string) => monitor(id, { ctype: 'heartbeat', interval: 60, data: { token: `tok-${id}` } });

/** A fresh SQLite store and zone; `age` makes a stored signal look stored `ms` ago (older than the pulls' look-back). */
async function setup(wrap: (s: Store) => Store = (s) => s) {
  const zone = `z${++n}`;
  const file = join(dir, `${zone}.db`);
  const store = new SqliteStore(file);
  await store.init();
  const set = new ToldSet();
  const sync = new SignalSync(fx.redis, wrap(store), zone, set, pino({ level: 'silent' }), new Counters(undefined, 'c', 'bridge'));
  const age = (id: string, ms: number) => {
    const db = new Database(file);
    db.prepare('UPDATE signals SET storedAt = storedAt - ? WHERE monitorId = ?').run(ms, id);
    db.close();
  };
  return { zone, store, set, sync, age, done: () => store.close() };
}

test('a told monitor newly run in this zone gets its signal stored long ago (skipped by earlier pulls)', async () => {
  const { zone, store, set, sync, age, done } = await setup();
  const at = Date.now() - 5000;
  await store.putSignals([{ monitorId: 'm1', zone: 'other', at, status: 'healthy' }]);
  age('m1', 60_000);
  set.update('m2', told('m2'));
  await store.putSignals([{ monitorId: 'm2', zone: 'other', at, status: 'healthy' }]);
  await sync.pull();
  assert.is(await readSignal(fx.redis, zone, 'm1'), null, 'not run here yet');
  await sync.pull();
  set.update('m1', told('m1'));
  assert.is(await sync.pull(), 1);
  assert.equal(await readSignal(fx.redis, zone, 'm1'), { at, status: 'healthy' });
  await done();
});

test('a pull before the first config resync does not lose the signals of the monitors the resync brings', async () => {
  const { zone, store, set, sync, age, done } = await setup();
  const at = Date.now() - 5000;
  await store.putSignals([{ monitorId: 'm1', zone: 'other', at, status: 'failed', message: 'exit 1' }]);
  age('m1', 60_000);
  await store.putSignals([{ monitorId: 'm2', zone: 'other', at, status: 'healthy' }]);
  await sync.pull();
  set.reset([told('m1'), monitor('m3')]);
  await sync.pull();
  assert.equal(await readSignal(fx.redis, zone, 'm1'), { at, status: 'failed', message: 'exit 1' });
  await done();
});

test('SignalSync.run waits for the told set before its first round', async () => {
  const { zone, store, set, sync, done } = await setup();
  await store.putSignals([{ monitorId: 'm1', zone: 'other', at: Date.now(), status: 'healthy' }]);
  let resolve!: () => void;
  const known = new Promise<void>((r) => (resolve = r));
  const stop = new AbortController();
  const running = sync.run(stop.signal, new AbortController().signal, known);
  await new Promise((r) => setTimeout(r, 300));
  assert.is(await fx.redis.exists(keys(zone).signal('m1')), 0);
  set.reset([told('m1')]);
  resolve();
  for (let i = 0; i < 50 && !(await fx.redis.exists(keys(zone).signal('m1'))); i++) await new Promise((r) => setTimeout(r, 50));
  stop.abort();
  await running;
  assert.is(await fx.redis.exists(keys(zone).signal('m1')), 1);
  await done();
});

test('a Redis reconnection during a round still makes the next round read every stored signal', async () => {
  let gate: Promise<void> | undefined;
  const { zone, store, set, sync, age, done } = await setup((s) => {
    const signals = s.signals.bind(s);
    s.signals = async (q) => {
      const list = await signals(q);
      await gate;
      return list;
    };
    return s;
  });
  set.reset([told('m1'), told('m2')]);
  const at = Date.now() - 5000;
  await store.putSignals([{ monitorId: 'm1', zone: 'other', at, status: 'healthy' }]);
  age('m1', 60_000);
  await store.putSignals([{ monitorId: 'm2', zone: 'other', at, status: 'healthy' }]);
  await sync.pull();
  await fx.redis.del(keys(zone).signal('m1'));

  let open!: () => void;
  gate = new Promise((r) => (open = r));
  const round = sync.pull();
  const ready = new Promise((r) => fx.redis.once('ready', r));
  fx.redis.disconnect(true);
  await ready;
  open();
  await round;
  gate = undefined;
  await fx.redis.del(keys(zone).signal('m1'));
  await sync.pull();
  assert.equal(await readSignal(fx.redis, zone, 'm1'), { at, status: 'healthy' }, 'read again after the reconnection');
  await done();
});

test("a copied signal keeps the TTL left from its own time; one past its TTL is not copied", async () => {
  const { zone, store, set, sync, done } = await setup();
  set.reset([told('m1'), told('m2')]);
  const now = Date.now();
  await store.putSignals([
    { monitorId: 'm1', zone: 'other', at: now - (SIGNAL_MIN_TTL_S - 100) * 1000, status: 'healthy' },
    { monitorId: 'm2', zone: 'other', at: now - (SIGNAL_MIN_TTL_S + 5) * 1000, status: 'healthy' },
  ]);
  assert.is(await sync.pull(), 1);
  const ttl = await fx.redis.ttl(keys(zone).signal('m1'));
  assert.ok(ttl > 90 && ttl <= 101, `TTL ${ttl} s is what was left`);
  assert.is(await fx.redis.exists(keys(zone).signal('m2')), 0, 'an expired signal is not copied');
  await done();
});

test.run();

/**
 * CLOUDROUTES_BACKLOG_MAX with the store of record down: the oldest history is trimmed and counted, every event is
 * kept and stored once the store is back, /health says 503 with how long and how much; the 50% and 90% warnings.
 */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readBacklog } from '../src/core/backlog.js';
import { HISTORY_PER_ENTRY } from '../src/core/history-entry.js';
import { keys } from '../src/core/keys.js';
import { recordResults } from '../src/core/record-results.js';
import { registerZoneMetrics, ZoneReader } from '../src/core/metrics-zone.js';
import { openStore } from '../src/store/open.js';
import { HealthProbe, type HealthReport } from '../src/web/routes/health.js';
import { loadSettings } from '../src/core/config.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { parsePrometheus } from './helpers/prometheus.js';
import { freePort, freePortRange, RedisServer } from './helpers/redis-server.js';
import { monitor } from './helpers/store-suite.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures', import.meta.url));
const CAP = 100;
/** Entries per stream node: the ~ trim removes whole nodes, so the stream may hold up to this many more than the cap. */
const NODE = 10;
const MONITORS = 30;
const dir = mkdtempSync(join(tmpdir(), 'cr-backlog-'));
const file = join(dir, 'store.db');
const server = new RedisServer();
let redis: Redis;
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
let webUrl = '';
const k = keys('default');

test.before(async () => {
  await server.start();
  redis = server.client();
  await redis.config('SET', 'stream-node-max-entries', String(NODE));
  const store = await openStore(`sqlite:${file}`);
  for (let i = 0; i < MONITORS; i++) await store.putMonitor(monitor(`m${i}`, { ctype: 'zone-flag', interval: 1, data: { dir } }));
  await store.close();
  flag('healthy');
  const port = await freePort();
  webUrl = `http://127.0.0.1:${port}`;
  Object.assign(env, {
    REDIS_URL: server.url, CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_BACKLOG_MAX: String(CAP),
    CLOUDROUTES_CHECKS_PATH: join(FIXTURES, 'checks'), CLOUDROUTES_SECRET_KEY: '12'.repeat(32), CLOUDROUTES_HEALTH_RESULT_AGE: '30s',
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
  procs.push(new Proc(['web', '--port', String(port)], env).start());
  await Promise.all(procs.map((p) => p.waitFor(/"(broker listening|\w+ started|web listening)"/, 30_000)));
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const added = async (stream: string) => {
  const info = (await redis.call('XINFO', 'STREAM', stream)) as (string | number)[];
  return Number(info[info.indexOf('entries-added') + 1]);
};
const health = async () => {
  const r = await fetch(`${webUrl}/health`);
  return { status: r.status, body: (await r.json()) as HealthReport };
};
/** What the zone-flag check reads next; renamed into place, so that no check reads a half-written file. */
const flag = (status: string) => {
  writeFileSync(join(dir, 'flag.tmp'), status);
  renameSync(join(dir, 'flag.tmp'), join(dir, 'default'));
};
const trimmed = async () => Number((await redis.hget(k.counters, 'bridge.history_trimmed')) ?? 0);

test('store down: history is trimmed at the cap and counted, events are all kept; /health 503 says for how long and how much, 200 once it is back', async () => {
  const all = async (status: string) => (await Promise.all(Array.from({ length: MONITORS }, (_, i) => redis.hget(k.state(`m${i}`), 'status')))).every((s) => s === status);
  await waitFor(() => all('healthy'), 20_000, 'every monitor checked');
  await waitFor(async () => (await health()).status === 200, 10_000, '/health 200 before the outage');
  await waitFor(async () => (await redis.xlen(k.events)) === 0, 10_000, 'first events stored before the outage');
  const eventsBefore = await added(k.events);
  const lock = new Database(file);
  lock.exec('BEGIN EXCLUSIVE');
  try {
    const down = await waitFor(async () => {
      const h = await health();
      return h.status === 503 ? h : undefined;
    }, 10_000, '/health 503 while the bridge cannot write');
    assert.equal(down.body.down, ['store']);
    assert.is(down.body.store.up, true, 'the web process itself still reads the store');
    assert.match(down.body.store.error!, /^store of record down for \d+s, \d+ results( and \d+ events)? waiting \(store of record: writing (history|events) .*SQLITE_BUSY/, down.body.store.error);

    // Two status changes of every monitor while the store is down: events that must all survive.
    flag('failed');
    await waitFor(() => all('failed'), 20_000, 'every monitor failed');
    assert.is(await redis.xlen(k.events), MONITORS);
    flag('healthy');
    await waitFor(() => all('healthy'), 20_000, 'every monitor healthy again');
    assert.is(await redis.xlen(k.events), 2 * MONITORS);
    await waitFor(async () => (await trimmed()) >= CAP, 20_000, 'history trimmed past the cap');
    const { waiting } = (await readBacklog(redis, 'default', CAP)).history;
    assert.ok(waiting <= CAP + NODE * HISTORY_PER_ENTRY, `history holds ${waiting} results, at most the cap ${CAP} plus one node`);
    assert.is(await redis.xlen(k.events), (await added(k.events)) - eventsBefore, 'no event was trimmed');

    const stats = await cli(['stats'], { ...env, LOG_LEVEL: 'silent' });
    assert.is(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^warning: store of record down for \d+s, \d+ results and \d+ events waiting/m);
    assert.match(stats.stdout, /^warning: the history backlog is almost full: \d+ results wait for the store of record, \d+% of CLOUDROUTES_BACKLOG_MAX \(100\); past it the oldest results are trimmed/m);
    assert.match(stats.stdout, /^\d+ results were trimmed from history unstored past CLOUDROUTES_BACKLOG_MAX$/m);
    assert.match(stats.stdout, /bridge\.history_trimmed\s+\d+/);
    const m = parsePrometheus(await (await fetch(`${webUrl}/metrics`)).text());
    assert.ok(m.value('cloudroutes_zone_history_trimmed_total')! >= CAP);
    assert.ok(m.value('cloudroutes_zone_backlog_fill_ratio', { stream: 'history' })! >= 0.9);
    assert.is(m.value('cloudroutes_zone_backlog_max'), CAP);
    assert.is(m.value('cloudroutes_zone_store_up'), 0);
    const h = await health();
    assert.is(h.status, 503);
    assert.ok(h.body.warnings.some((w) => /history backlog is almost full/.test(w)), JSON.stringify(h.body.warnings));
  } finally {
    lock.exec('COMMIT');
    lock.close();
  }
  await waitFor(async () => (await health()).status === 200, 20_000, '/health 200 once the store is back');
  await waitFor(async () => (await redis.xlen(k.history)) === 0 && (await redis.xlen(k.events)) === 0, 20_000, 'backlog drained');
  // Producers first, then what they last recorded drains: a bridge stopped before the sink leaves the sink's last results out of the store.
  for (const name of ['control', 'worker', 'sink']) await procs.find((p) => p.args[0] === name)!.kill();
  await waitFor(async () => (await redis.xlen(k.history)) === 0 && (await redis.xlen(k.events)) === 0, 20_000, 'the last results drained');
  for (const p of procs) await p.kill();
  const store = await openStore(`sqlite:${file}`);
  const ids = Array.from({ length: MONITORS }, (_, i) => `m${i}`);
  let history = 0;
  let events = 0;
  for (const id of ids) {
    history += (await store.history({ monitorId: id, limit: 100_000 })).length;
    events += (await store.events({ monitorId: id, limit: 100_000 })).length;
  }
  await store.close();
  const results = Number(await redis.get(k.historyAdded));
  assert.is(events, await added(k.events), 'every event stored, once');
  assert.ok(history < results, 'trimmed results never reached the store');
  // The bridge may hold a batch it read before the trim, and store it: trimmed counts what left Redis unstored.
  assert.ok(history + (await trimmed()) >= results, `stored ${history} + trimmed ${await trimmed()} account for every one of ${results} results`);
});

test('the backlog warns at 50% and at 90% of the cap in stats, /metrics and /health (entries of one result each, as older versions wrote)', async () => {
  // A zone without a bridge: what the sink writes stays.
  const zone = 'fill';
  const z = keys(zone);
  const fillTo = async (n: number) => {
    while ((await redis.xlen(z.history)) < n) await redis.xadd(z.history, '*', 'monitorId', 'x', 'zone', zone, 'status', 'healthy', 'checkedAt', '1', 'due', '1');
  };
  const settings = loadSettings({ ...env, CLOUDROUTES_ZONE: zone });
  const fillStore = openStore(`sqlite:${join(dir, 'fill.db')}`);
  const probe = new HealthProbe({ redis, store: () => fillStore, settings }, 3_600_000);
  const registry = new Registry();
  registerZoneMetrics(registry, new ZoneReader(redis, zone, settings.backlogMax, 0));
  const look = async () => ({
    stats: (await cli(['stats', '--zone', zone], { ...env, LOG_LEVEL: 'silent' })).stdout,
    fill: parsePrometheus(await registry.metrics()).value('cloudroutes_zone_backlog_fill_ratio', { stream: 'history' }),
    warnings: (await probe.check()).warnings,
  });

  await fillTo(49);
  let seen = await look();
  assert.not.match(seen.stats, /warning/);
  assert.is(seen.fill, 0.49);
  assert.equal(seen.warnings, []);

  await fillTo(50);
  seen = await look();
  assert.match(seen.stats, /^warning: the history backlog is filling: 50 results wait for the store of record, 50% of CLOUDROUTES_BACKLOG_MAX \(100\)/m);
  assert.is(seen.fill, 0.5);
  assert.is(seen.warnings.length, 1);
  assert.match(seen.warnings[0]!, /history backlog is filling/);

  await fillTo(90);
  seen = await look();
  assert.match(seen.stats, /^warning: the history backlog is almost full: 90 results wait for the store of record, 90% of CLOUDROUTES_BACKLOG_MAX \(100\)/m);
  assert.is(seen.fill, 0.9);
  assert.match(seen.warnings[0]!, /history backlog is almost full/);
  const json = JSON.parse((await cli(['stats', '--zone', zone, '--json'], { ...env, LOG_LEVEL: 'silent' })).stdout) as { backlog: { history: { waiting: number; fill: number } }; warnings: string[] };
  assert.equal(json.backlog.history.waiting, 90);
  assert.is(json.warnings.length, 1);
  await (await fillStore).close();
});

test('the backlog and the cap count results, up to 16 to a history entry: the trim removes whole nodes and counts their results', async () => {
  const zone = 'packed';
  const z = keys(zone);
  const ids = Array.from({ length: 60 }, (_, i) => `p${i}`);
  for (const id of ids) await redis.set(z.monitor(id), JSON.stringify({ id, name: id, ctype: 'zone-flag', interval: 60, reactions: [] }));
  const batch = (due: number) => ids.map((monitorId) => ({ monitorId, status: 'healthy', message: 'ok', latencyMs: 1, checkedAt: due + 1, due }));
  await redis.config('SET', 'stream-node-max-entries', '2');
  try {
    await recordResults(redis, zone, batch(1_000), { backlogMax: CAP });
    assert.is(await redis.xlen(z.history), 4, 'sixty results in four entries');
    let b = await readBacklog(redis, zone, CAP);
    assert.is(b.history.waiting, 60);
    assert.is(b.history.fill, 0.6);
    const stats = (await cli(['stats', '--zone', zone], { ...env, LOG_LEVEL: 'silent' })).stdout;
    assert.match(stats, /^warning: the history backlog is filling: 60 results wait for the store of record, 60% of CLOUDROUTES_BACKLOG_MAX \(100\)/m);
    assert.match(stats, /^backlog waiting for the store of record: 60 results of at most 100/m);

    // 120 past the cap of 100: the oldest node (two entries, 32 results) goes, and its results are counted.
    await recordResults(redis, zone, batch(61_000), { backlogMax: CAP });
    b = await readBacklog(redis, zone, CAP);
    assert.is(b.history.waiting, 88);
    assert.is(await redis.xlen(z.history), 6);
    assert.is(await redis.hget(z.counters, 'bridge.history_trimmed'), '32');
    assert.is(await redis.get(z.historyAdded), '120');
  } finally {
    await redis.config('SET', 'stream-node-max-entries', String(NODE));
  }
});

test.run();

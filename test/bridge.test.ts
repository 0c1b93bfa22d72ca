import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, type Bridge, type BridgeOptions } from '../src/bridge/bridge.js';
import { ConfigSync } from '../src/bridge/config-sync.js';
import { listDeadLetters } from '../src/bridge/dead-letters.js';
import { loadSettings } from '../src/core/config.js';
import { Counters } from '../src/core/counters.js';
import { keys, type Keys } from '../src/core/keys.js';
import { recordResults } from '../src/core/record-results.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { monitor, reaction, target } from './helpers/store-suite.js';
import { RedisServer } from './helpers/redis-server.js';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-bridge-'));
let redis: Redis;
let n = 0;

interface Ctx {
  zone: string;
  k: Keys;
  file: string;
  store: SqliteStore;
  logs: Record<string, unknown>[];
  start(over?: Partial<BridgeOptions>): Promise<Bridge>;
}

/** A fresh zone, SQLite file and log capture; `start` starts a bridge on them (stopped after the test). */
async function setup(storeOpts = {}): Promise<Ctx & { done(): Promise<void> }> {
  const zone = `t${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const file = join(dir, `${zone}.db`);
  const store = new SqliteStore(file, storeOpts);
  await store.init();
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  const settings = loadSettings({ REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: dir });
  const bridges: Bridge[] = [];
  return {
    zone, k: keys(zone), file, store, logs,
    async start(over = {}) {
      const b = await startBridge({ settings, logger, store, claimIdleMs: 200, ...over });
      bridges.push(b);
      return b;
    },
    async done() {
      for (const b of bridges) await b.stop();
      await store.close();
    },
  };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | null | false>, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new assert.Assertion({ message: `timed out after ${ms} ms waiting for ${what}`, generated: false, operator: 'waitFor', expects: what, actual: v });
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function monitorKeys(k: Keys, id: string) {
  const [config, interval, member, score, state] = await Promise.all([
    redis.get(k.monitor(id)), redis.hget(k.intervals, id), redis.sismember(k.monitors, id), redis.zscore(k.schedule, id), redis.exists(k.state(id)),
  ]);
  return { config, interval, member, score: score === null ? null : Number(score), state };
}

function historyFields(zone: string, monitorId: string, checkedAt: number): string[] {
  return ['monitorId', monitorId, 'zone', zone, 'status', 'healthy', 'message', 'ok', 'latencyMs', '12', 'checkedAt', String(checkedAt), 'due', String(checkedAt - 5)];
}

test.before(async () => {
  await server.start();
  redis = server.client();
  redis.on('error', () => undefined);
});

test.after(async () => {
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a monitor put in the store is in Redis within 1 s: config, interval, set and a slot inside its interval', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    const m = monitor('m1', { interval: 10, data: { url: 'http://x/', token: 'enc:v1:a:b:c' } });
    const before = Date.now();
    await c.store.putMonitor(m);
    await c.store.putReaction(reaction('r1'));
    await waitFor('monitor in Redis', () => redis.get(c.k.monitor('m1')), 1000);
    const got = await monitorKeys(c.k, 'm1');
    assert.equal(JSON.parse(got.config!), m);
    assert.is(got.interval, '10000');
    assert.is(got.member, 1);
    assert.ok(got.score! >= before && got.score! <= Date.now() + 10_000, `score ${got.score} inside [now, now + interval]`);
    await waitFor('reaction in Redis', () => redis.get(c.k.reaction('r1')), 1000);
    assert.equal(JSON.parse((await redis.get(c.k.reaction('r1')))!), reaction('r1'));
  } finally {
    await c.done();
  }
});

test('new monitors are spread over their interval, not bunched at one time', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    const start = Date.now();
    for (let i = 0; i < 40; i++) await c.store.putMonitor(monitor(`s${i}`, { interval: 60 }));
    await waitFor('40 monitors scheduled', async () => (await redis.zcard(c.k.schedule)) === 40);
    const offsets = (await redis.zrange(c.k.schedule, 0, -1, 'WITHSCORES')).filter((_, i) => i % 2 === 1).map((s) => Number(s) - start);
    const quarters = [0, 1, 2, 3].map((q) => offsets.filter((o) => o >= q * 15_000 && o < (q + 1) * 15_000).length);
    assert.ok(quarters.filter((count) => count > 0).length >= 3, `offsets spread over the minute: ${quarters}`);
  } finally {
    await c.done();
  }
});

test('an edit keeps the slot; a new interval gets a new slot inside it', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    await c.store.putMonitor(monitor('m1', { interval: 10 }));
    const first = await waitFor('monitor scheduled', async () => (await redis.zscore(c.k.schedule, 'm1')) ?? undefined);
    await c.store.putMonitor(monitor('m1', { interval: 10, name: 'renamed' }));
    await waitFor('rename applied', async () => JSON.parse((await redis.get(c.k.monitor('m1')))!).name === 'renamed', 1000);
    assert.is(await redis.zscore(c.k.schedule, 'm1'), first, 'slot kept');
    const before = Date.now();
    await c.store.putMonitor(monitor('m1', { interval: 3600 }));
    await waitFor('new interval applied', async () => (await redis.hget(c.k.intervals, 'm1')) === '3600000', 1000);
    const score = Number(await redis.zscore(c.k.schedule, 'm1'));
    assert.ok(score >= before && score <= Date.now() + 3_600_000, `rescheduled inside the new interval: ${score}`);
  } finally {
    await c.done();
  }
});

test('a delete removes every key of the monitor, and the reaction key', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    await c.store.putMonitor(monitor('m1'));
    await c.store.putReaction(reaction('r1'));
    await waitFor('applied', async () => (await redis.exists(c.k.monitor('m1'))) && redis.exists(c.k.reaction('r1')));
    await redis.hset(c.k.state('m1'), 'status', 'failed', 'failcount', '2');
    await c.store.deleteMonitor('m1');
    await c.store.deleteReaction('r1');
    await waitFor('monitor removed', async () => !(await redis.exists(c.k.monitor('m1'))), 1000);
    await waitFor('reaction removed', async () => !(await redis.exists(c.k.reaction('r1'))), 1000);
    assert.equal(await monitorKeys(c.k, 'm1'), { config: null, interval: null, member: 0, score: null, state: 0 });
  } finally {
    await c.done();
  }
});

test('a restarted bridge resyncs: changes made while it was stopped arrive and leftovers are removed', async () => {
  const c = await setup();
  try {
    const b1 = await c.start();
    await b1.ready;
    await c.store.putMonitor(monitor('gone'));
    await c.store.putMonitor(monitor('edited', { interval: 10 }));
    await c.store.putReaction(reaction('r-gone'));
    await waitFor('applied', async () => (await redis.exists(c.k.monitor('edited'))) && redis.exists(c.k.reaction('r-gone')));
    await b1.stop();

    await c.store.deleteMonitor('gone');
    await c.store.putMonitor(monitor('edited', { interval: 20 }));
    await c.store.putMonitor(monitor('added'));
    await c.store.deleteReaction('r-gone');
    await c.store.putReaction(reaction('r-added'));
    await redis.set(c.k.monitor('ghost'), '{}');
    await redis.zadd(c.k.schedule, 1, 'ghost-scheduled');
    await redis.set(c.k.reaction('r-ghost'), '{}');

    const b2 = await c.start();
    await b2.ready;
    assert.is((await monitorKeys(c.k, 'gone')).config, null);
    assert.is((await monitorKeys(c.k, 'edited')).interval, '20000');
    assert.equal(JSON.parse((await monitorKeys(c.k, 'added')).config!), monitor('added'));
    assert.equal((await redis.smembers(c.k.monitors)).sort(), ['added', 'edited']);
    assert.equal((await redis.zrange(c.k.schedule, 0, -1)).sort(), ['added', 'edited']);
    assert.is(await redis.exists(c.k.monitor('ghost'), c.k.reaction('r-ghost'), c.k.reaction('r-gone')), 0);
    assert.is(await redis.exists(c.k.reaction('r-added')), 1);

    await redis.del(c.k.monitor('added'));
    await b2.syncNow();
    assert.is(await redis.exists(c.k.monitor('added')), 1, 'syncNow restores a lost key');
  } finally {
    await c.done();
  }
});

test('targets: a set, changed or removed budget reaches the zone\'s targets hash; a resync writes them all and drops leftovers; an invalid one is refused', async () => {
  const c = await setup();
  try {
    await c.store.putTarget(target('db-1', { maxRuns: 1, per: 60 }));
    await c.store.putTarget(target('bad/runs', { maxRuns: 0 }));
    await redis.hset(c.k.targets, 'ghost', '9 1000', 'bad/runs', '5 1000');
    const b = await c.start();
    await b.ready;
    assert.equal(await redis.hgetall(c.k.targets), { 'db-1': '1 60000' }, 'the resync writes every usable target and drops the others');
    const refused = c.logs.find((l) => l.target === 'bad/runs' && l.level === 50);
    assert.ok(refused, 'the invalid target is logged');
    assert.is(refused!.field, 'maxRuns');
    assert.match(String(refused!.msg), 'target in the store of record is invalid (maxRuns): not applied to Redis; fix it with "cloudroutes target set bad/runs');
    assert.is(b.counters.get('targets_refused'), 1);

    await c.store.putTarget(target('web-2', { maxRuns: 2, per: 3600 }));
    await waitFor('the new target in Redis', () => redis.hget(c.k.targets, 'web-2'), 1000);
    assert.is(await redis.hget(c.k.targets, 'web-2'), '2 3600000', '"<most runs> <window ms>", as claimReaction-3.lua reads it');
    await c.store.putTarget(target('web-2', { maxRuns: 3, per: 1.5 }));
    await waitFor('the changed budget', async () => (await redis.hget(c.k.targets, 'web-2')) === '3 1500', 1000);
    await c.store.deleteTarget('web-2');
    await waitFor('the removed target gone from Redis', async () => (await redis.hexists(c.k.targets, 'web-2')) === 0, 1000);
    // Broken in the store through the feed: removed, so its reactions have the default budget, not the broken one.
    await c.store.putTarget(target('db-1', { per: 0 }));
    await waitFor('the broken target removed', async () => (await redis.hexists(c.k.targets, 'db-1')) === 0, 1000);
    assert.is(b.counters.get('targets_refused'), 2);
    await c.store.putTarget(target('db-1', { maxRuns: 4, per: 600 }));
    await waitFor('the mended target applied', async () => (await redis.hget(c.k.targets, 'db-1')) === '4 600000', 1000);
  } finally {
    await c.done();
  }
});

test('a resync pages through the store: every page applied and its states restored, leftovers removed', async () => {
  const c = await setup();
  try {
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) await c.store.putMonitor(monitor(id));
    await c.store.putMonitor(monitor('p0-elsewhere', { zones: ['elsewhere'] }));
    await c.store.putZoneViews([
      { monitorId: 'p1', zone: c.zone, status: 'failed', failcount: 3, at: 1000 },
      { monitorId: 'p5', zone: c.zone, status: 'failed', failcount: 7, at: 2000 },
      { monitorId: 'p3', zone: 'elsewhere', status: 'failed', failcount: 9, at: 3000 },
    ]);
    await redis.set(c.k.monitor('ghost'), '{}');
    const logs: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
    // Two monitors a page and one a pipeline: the five cross three pages, the last one short.
    const sync = new ConfigSync(redis, c.store, c.zone, logger, new Counters(undefined, c.k.counters, 'bridge'), { pageSize: 2, batchSize: 1 });
    await sync.syncNow();
    assert.equal((await redis.smembers(c.k.monitors)).sort(), ['p1', 'p2', 'p3', 'p4', 'p5']);
    assert.equal((await redis.zrange(c.k.schedule, 0, -1)).sort(), ['p1', 'p2', 'p3', 'p4', 'p5']);
    assert.is(await redis.exists(c.k.monitor('ghost'), c.k.monitor('p0-elsewhere')), 0);
    assert.equal(await redis.hmget(c.k.state('p1'), 'status', 'failcount'), ['failed', '3'], 'first page seeded');
    assert.equal(await redis.hmget(c.k.state('p5'), 'status', 'failcount'), ['failed', '7'], 'last page seeded');
    assert.equal(await redis.hmget(c.k.state('p3'), 'status', 'lastCheck'), [null, null], "another zone's view is not this zone's state");
    const done = logs.find((l) => l.msg === 'full resync of Redis from the store of record done');
    assert.equal([done?.monitors, done?.removedMonitors, done?.statesRestored], [5, ['ghost'], 2]);
  } finally {
    await c.done();
  }
});

test('history and events from the streams land in the store once and leave the streams', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    await c.store.putMonitor(monitor('m1'));
    await waitFor('applied', () => redis.exists(c.k.monitor('m1')));
    // An entry of one field per value, as results were written before they were packed into one (an upgrade's backlog).
    const h1 = (await redis.xadd(c.k.history, '*', ...historyFields(c.zone, 'm1', 1000)))!;
    const e1 = (await redis.xadd(c.k.events, '*', 'kind', 'reaction', 'monitorId', 'm1', 'zone', c.zone, 'at', '1001', 'status', 'failed',
      'previousStatus', 'healthy', 'failcount', '3', 'reactionId', 'r1', 'outcome', 'ran', 'message', 'rebooted'))!;
    // What the sink writes: one history entry, and a status event because the status changed.
    await recordResults(redis, c.zone, [{ monitorId: 'm1', status: 'failed', message: 'timeout\tafter 5 s', latencyMs: null, checkedAt: 2000, due: 1990 }]);

    await waitFor('2 history rows', async () => (await c.store.history({ monitorId: 'm1' })).length === 2);
    await waitFor('2 events', async () => (await c.store.events({ monitorId: 'm1' })).length === 2);
    const hist = await c.store.history({ monitorId: 'm1' });
    assert.equal(hist[1], { id: `${c.zone}:${h1}`, monitorId: 'm1', zone: c.zone, status: 'healthy', message: 'ok', latencyMs: 12, checkedAt: 1000, due: 995 });
    assert.equal({ ...hist[0], id: '' }, { id: '', monitorId: 'm1', zone: c.zone, status: 'failed', message: 'timeout\tafter 5 s', latencyMs: null, checkedAt: 2000, due: 1990 });
    const ev = await c.store.events({ monitorId: 'm1' });
    assert.equal(ev[1], { id: `${c.zone}:${e1}`, kind: 'reaction', monitorId: 'm1', zone: c.zone, at: 1001, status: 'failed', previousStatus: 'healthy', failcount: 3, reactionId: 'r1', outcome: 'ran', message: 'rebooted' });
    assert.equal({ ...ev[0], id: '' }, { id: '', kind: 'status', monitorId: 'm1', zone: c.zone, at: 2000, status: 'failed', previousStatus: null, failcount: 1, episode: 1, message: 'timeout\tafter 5 s' });
    await waitFor('streams emptied', async () => (await redis.xlen(c.k.history)) + (await redis.xlen(c.k.events)) === 0);
    assert.is(((await redis.xpending(c.k.history, 'bridge')) as unknown[])[0], 0);
  } finally {
    await c.done();
  }
});

test('entries read but not acked by a dead bridge (or by this one before a stop) reach the store exactly once', async () => {
  const c = await setup();
  try {
    await redis.xgroup('CREATE', c.k.history, 'bridge', '0', 'MKSTREAM');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await redis.xadd(c.k.history, '*', ...historyFields(c.zone, 'm1', 1000 + i)))!);
    // A dead consumer read three; the first of them had even been stored before it died.
    await redis.xreadgroup('GROUP', 'bridge', 'dead', 'COUNT', 3, 'STREAMS', c.k.history, '>');
    await c.store.addHistory([{ id: `${c.zone}:${ids[0]}`, monitorId: 'm1', zone: c.zone, status: 'healthy', message: 'ok', latencyMs: 12, checkedAt: 1000, due: 995 }]);
    // This bridge's own consumer read two before it was stopped.
    await redis.xreadgroup('GROUP', 'bridge', 'me', 'COUNT', 2, 'STREAMS', c.k.history, '>');

    await c.start({ consumer: 'me', claimIdleMs: 300 });
    await waitFor('all six stored', async () => (await c.store.history({ monitorId: 'm1' })).length === 6);
    await waitFor('stream emptied', async () => (await redis.xlen(c.k.history)) === 0);
    const stored = await c.store.history({ monitorId: 'm1' });
    assert.equal(stored.map((h) => h.id).sort(), ids.map((id) => `${c.zone}:${id}`).sort());
    assert.is(((await redis.xpending(c.k.history, 'bridge')) as unknown[])[0], 0);
    assert.ok(c.logs.some((l) => l.msg === 'took over entries left unacknowledged by another bridge' && l.count === 3));
  } finally {
    await c.done();
  }
});

test('a bridge stopped while the store refuses writes leaves its batch pending; the next one stores it once', async () => {
  const c = await setup({ busyTimeoutMs: 20 });
  const lock = new Database(c.file);
  try {
    lock.exec('BEGIN EXCLUSIVE');
    const b1 = await c.start({ consumer: 'first' });
    for (let i = 0; i < 3; i++) await redis.xadd(c.k.history, '*', ...historyFields(c.zone, 'm1', 1000 + i));
    await waitFor('store write failing', async () => b1.counters.get('store_errors') >= 3);
    await b1.stop();
    assert.is(((await redis.xpending(c.k.history, 'bridge')) as unknown[])[0], 3, 'read, not acked');
    const failures = c.logs.filter((l) => l.msg === 'writing history to the store of record failed; retrying with backoff (entries stay in the Redis stream ' + c.k.history + ' until it works)');
    assert.is(failures.length, 1, 'logged once, not once per attempt');
    lock.exec('COMMIT');
    await c.start({ consumer: 'second', claimIdleMs: 100 });
    await waitFor('stored', async () => (await c.store.history({ monitorId: 'm1' })).length === 3);
    await waitFor('stream emptied', async () => (await redis.xlen(c.k.history)) === 0);
  } finally {
    if (lock.inTransaction) lock.exec('ROLLBACK');
    lock.close();
    await c.done();
  }
});

test('when the store comes back, the waiting entries are written and the recovery is logged once', async () => {
  const c = await setup({ busyTimeoutMs: 20 });
  const lock = new Database(c.file);
  try {
    const b = await c.start();
    await b.ready;
    lock.exec('BEGIN EXCLUSIVE');
    for (let i = 0; i < 3; i++) await redis.xadd(c.k.events, '*', 'kind', 'status', 'monitorId', 'm1', 'zone', c.zone, 'at', String(i), 'status', 'failed', 'previousStatus', '', 'failcount', '1', 'message', '');
    await waitFor('store write failing', async () => b.counters.get('store_errors') >= 2);
    lock.exec('COMMIT');
    await waitFor('stored', async () => (await c.store.events({ monitorId: 'm1' })).length === 3, 8000);
    assert.is(c.logs.filter((l) => l.msg === 'writing events to the store of record works again').length, 1);
  } finally {
    if (lock.inTransaction) lock.exec('ROLLBACK');
    lock.close();
    await c.done();
  }
});

test('malformed entries are logged with their id, counted and set aside as dead letters, and the rest goes on', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    const bad1 = await redis.xadd(c.k.history, '*', 'monitorId', 'm1', 'zone', c.zone, 'checkedAt', '5', 'due', '5');
    const bad2 = await redis.xadd(c.k.events, '*', 'kind', 'reaction', 'monitorId', 'm1', 'zone', c.zone, 'at', '1', 'status', 'failed', 'failcount', '1', 'reactionId', 'r1', 'outcome', 'exploded');
    // A packed result cut short after its zone: no status.
    const bad3 = await redis.xadd(c.k.history, '*', 'result', `m1\t${c.zone}\t`);
    await redis.xadd(c.k.history, '*', ...historyFields(c.zone, 'm1', 7));
    await waitFor('good one stored', async () => (await c.store.history({ monitorId: 'm1' })).length === 1);
    await waitFor('streams emptied', async () => (await redis.xlen(c.k.history)) + (await redis.xlen(c.k.events)) === 0);
    assert.is(b.counters.get('bad_entries'), 3);
    const logged = c.logs.filter((l) => String(l.msg).startsWith('malformed stream entry set aside')).map((l) => l.entryId);
    assert.equal(logged.sort(), [bad1, bad2, bad3].sort());
    await waitFor('counter in Redis', async () => (await redis.hget(c.k.counters, 'bridge.bad_entries')) === '3', 3000);
    const letters = await listDeadLetters(redis, c.zone);
    assert.equal(letters.map((l) => `${l.stream} ${l.entryId}`).sort(), [`events ${bad2}`, `history ${bad1}`, `history ${bad3}`].sort(), 'all kept, nothing lost');
    assert.match(letters.find((l) => l.entryId === bad1)!.error, /^malformed entry: /);
    assert.match(letters.find((l) => l.entryId === bad3)!.error, /^malformed entry: field "status" is missing/);
    assert.is(letters.find((l) => l.stream === 'events')!.fields.outcome, 'exploded', 'what the entry said is kept as it was');
  } finally {
    await c.done();
  }
});

test('Redis killed and restarted: the bridge carries on both ways', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    await c.store.putMonitor(monitor('before'));
    await waitFor('applied', () => redis.exists(c.k.monitor('before')));
    await server.kill();
    await c.store.putMonitor(monitor('during'));
    await new Promise((r) => setTimeout(r, 500));
    await server.start();
    await waitFor('change made while Redis was down applied', () => redis.exists(c.k.monitor('during')), 8000);
    assert.is(await redis.exists(c.k.monitor('before')), 1);
    await redis.xadd(c.k.history, '*', ...historyFields(c.zone, 'during', 1));
    await waitFor('history after restart stored', async () => (await c.store.history({ monitorId: 'during' })).length === 1, 8000);
    await c.store.putMonitor(monitor('after'));
    await waitFor('later change applied', () => redis.exists(c.k.monitor('after')), 2000);
  } finally {
    await c.done();
  }
});

test('stop() returns promptly while Redis is down', async () => {
  const c = await setup();
  try {
    const b = await c.start();
    await b.ready;
    await server.kill();
    await new Promise((r) => setTimeout(r, 300));
    const t = Date.now();
    await b.stop();
    assert.ok(Date.now() - t < 3000, `stop took ${Date.now() - t} ms`);
  } finally {
    await server.start();
    await c.done();
  }
});

test.run();

/** A record the store of record refuses is set aside while the rest drains; a store that is down is waited for, not set aside; `cloudroutes backlog` lists, retries and drops. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, type Bridge } from '../src/bridge/bridge.js';
import { loadSettings } from '../src/core/config.js';
import { keys } from '../src/core/keys.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { waitFor } from './helpers/cluster.js';
import { cli } from './helpers/procs.js';
import { RedisServer } from './helpers/redis-server.js';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-dead-'));
const zone = 'dead';
const k = keys(zone);
const file = join(dir, 'store.db');
let redis: Redis;
let store: SqliteStore;
let bridge: Bridge;
const logs: Record<string, unknown>[] = [];
const env: NodeJS.ProcessEnv = {};
/** A second connection to the store file, as an operator's sqlite3 shell would be. */
let sql: Database.Database;

const REFUSE = `CREATE TRIGGER refuse_poison BEFORE INSERT ON history WHEN NEW.monitorId = 'poison'
  BEGIN SELECT RAISE(ABORT, 'monitor poison is refused by a rule of this store'); END`;

test.before(async () => {
  await server.start();
  redis = server.client();
  store = new SqliteStore(file, { busyTimeoutMs: 100 });
  await store.init();
  sql = new Database(file);
  Object.assign(env, { REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: dir, LOG_LEVEL: 'silent' });
  const logger = pino({ level: 'info' }, { write: (s: string) => void logs.push(JSON.parse(s)) });
  bridge = await startBridge({ settings: loadSettings(env), logger, store, blockMs: 100 });
  await bridge.ready;
});

test.after(async () => {
  await bridge.stop();
  await store.close();
  sql.close();
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

let clock = 1_700_000_000_000;
const result = (monitorId: string) => {
  clock += 1000;
  return ['monitorId', monitorId, 'zone', zone, 'status', 'healthy', 'message', `ok ${clock}`, 'latencyMs', '3', 'checkedAt', String(clock), 'due', String(clock - 2), 'failcount', '0'];
};
/** Adds the entries in one round trip, so that the bridge reads them as one batch. */
const addResults = async (...monitorIds: string[]) => {
  const p = redis.multi();
  for (const id of monitorIds) p.xadd(k.history, '*', ...result(id));
  return ((await p.exec()) ?? []).map(([, id]) => id as string);
};
const stored = async (monitorId: string) => (await store.history({ monitorId, limit: 1000 })).length;
const run = async (...args: string[]) => cli(args, env);
const health = async () => JSON.parse((await redis.get(k.storeHealth)) ?? 'null') as { up: boolean } | null;

test('a record the store refuses goes to the dead letters with its error and time; the rest of its batch is stored', async () => {
  sql.exec(REFUSE);
  const ids = await addResults('m1', 'm1', 'poison', 'm2', 'm2');
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 5000, 'the batch drained');
  assert.is(await stored('m1'), 2);
  assert.is(await stored('m2'), 2);
  assert.is(await stored('poison'), 0);
  const dead = await redis.xrange(k.deadLetters('history'), '-', '+');
  assert.is(dead.length, 1);
  const f = Object.fromEntries(dead[0]![1].reduce<string[][]>((a, v, i) => (i % 2 ? a[a.length - 1]!.push(v) : a.push([v]), a), []));
  assert.is(f.monitorId, 'poison');
  assert.is(f.entryId, ids[2]);
  assert.match(f.error!, /SQLITE_CONSTRAINT_TRIGGER.*monitor poison is refused by a rule of this store/);
  assert.ok(Math.abs(Number(f.failedAt) - Date.now()) < 10_000, 'failedAt is when it failed');
  assert.equal((await health())?.up, true, 'a refused record is not a store outage');
  assert.ok(logs.some((l) => l.monitorId === 'poison' && /refused a record; it is set aside/.test(String(l.msg))), 'the bridge logs the record set aside, with its monitor');

  const stats = await run('stats');
  assert.is(stats.code, 0, stats.stderr);
  assert.match(stats.stdout, /dead letters \(records the store of record refused\): 1 results, 0 events \("cloudroutes backlog list" shows them/);
  const list = await run('backlog', 'list', '--json');
  assert.is(list.code, 0, list.stderr);
  const letters = JSON.parse(list.stdout) as { stream: string; entryId: string; monitorId: string; error: string }[];
  assert.equal(letters.map((l) => [l.stream, l.entryId, l.monitorId]), [['history', ids[2], 'poison']]);
  const table = await run('backlog', 'list');
  assert.match(table.stdout, new RegExp(`history\\s+${ids[2]}\\s+poison\\s+\\S+Z\\s+store of record refused the record`));
});

test('backlog retry while the cause remains: refused again, kept with the new error, exit status 1; once fixed it is stored under its own id', async () => {
  const before = await redis.xrange(k.deadLetters('history'), '-', '+');
  const again = await run('backlog', 'retry', '--json');
  assert.is(again.code, 1, again.stderr);
  const report = JSON.parse(again.stdout) as { stored: number; failed: { monitorId: string; error: string }[] };
  assert.is(report.stored, 0);
  assert.equal(report.failed.map((f) => f.monitorId), ['poison']);
  assert.match(report.failed[0]!.error, /monitor poison is refused/);
  const after = await redis.xrange(k.deadLetters('history'), '-', '+');
  assert.is(after.length, 1, 'still one dead letter');
  assert.is.not(after[0]![0], before[0]![0], 'renewed with the new time');

  sql.exec('DROP TRIGGER refuse_poison');
  const ok = await run('backlog', 'retry');
  assert.is(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^1 stored, 0 refused again$/m);
  const [record] = await store.history({ monitorId: 'poison', limit: 10 });
  const entryId = before[0]![1][before[0]![1].indexOf('entryId') + 1];
  assert.is(record?.id, `${zone}:${entryId}`, 'the record keeps the id of the entry it came from');
  assert.is(await redis.xlen(k.deadLetters('history')), 0);
  assert.match((await run('stats')).stdout, /dead letters \(records the store of record refused\): 0 results, 0 events$/m);
});

test('a store that is down is waited for: nothing is set aside; the refused record is, once the store is back', async () => {
  sql.exec(REFUSE);
  const lock = new Database(file);
  lock.exec('BEGIN EXCLUSIVE');
  try {
    await addResults('m3', 'poison', 'm3');
    await waitFor(async () => (await health())?.up === false, 5000, 'the bridge says the store is down');
    // Published for a minute at a time, so a bridge that dies now leaves no "store down" standing for ever.
    const ttl = await redis.pttl(k.storeHealth);
    assert.ok(ttl > 0 && ttl <= 60_000, `the store health expires (PTTL ${ttl} ms)`);
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(await redis.xlen(k.deadLetters('history')), 0, 'no dead letter while the store is down');
    assert.is(await redis.xlen(k.history), 3, 'the batch waits in Redis');
  } finally {
    lock.exec('COMMIT');
    lock.close();
  }
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 10_000, 'the batch drained once the store is back');
  assert.is(await stored('m3'), 2);
  assert.is(await redis.xlen(k.deadLetters('history')), 1);
  assert.equal((await health())?.up, true);
});

test('backlog drop asks for --yes, then deletes the dead letters', async () => {
  const no = await run('backlog', 'drop');
  assert.is(no.code, 2);
  assert.match(no.stderr, /\[CR_CONFIRM\]: backlog drop would delete 1 dead letter\(s\) of zone "dead": nothing was deleted; run it again with --yes/);
  assert.is(await redis.xlen(k.deadLetters('history')), 1);
  const yes = await run('backlog', 'drop', '--yes');
  assert.is(yes.code, 0, yes.stderr);
  assert.match(yes.stdout, /^1 dead letter\(s\) deleted$/m);
  assert.is(await redis.xlen(k.deadLetters('history')), 0);
  assert.is(await stored('poison'), 1, 'the one stored earlier stays');
});

/** One history entry holding several results, as recordResults writes them (`n`, then a line `r` per result). */
const addPacked = async (...lines: string[]) => {
  const fields = ['n', String(lines.length)];
  for (const line of lines) fields.push('r', line);
  return (await redis.xadd(k.history, '*', ...fields))!;
};
const line = (monitorId: string) => {
  clock += 1000;
  return [monitorId, zone, 'healthy', '3', String(clock), String(clock - 2), '0', '', `ok ${clock}`].join('\t');
};

test('one bad result of a packed history entry is set aside alone, under <entry id>:<index>; its neighbours are stored once', async () => {
  sql.exec('DROP TRIGGER IF EXISTS refuse_poison');
  sql.exec(REFUSE);
  const before = { m4: await stored('m4'), m5: await stored('m5') };
  const id = await addPacked(line('m4'), line('poison'), line('m5'), 'm5\tdead\thealthy', line('m4'));
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 5000, 'the entry drained');
  assert.is(await stored('m4'), before.m4 + 2);
  assert.is(await stored('m5'), before.m5 + 1);
  const ids = (await store.history({ monitorId: 'm4', limit: 1000 })).map((r) => r.id);
  assert.ok(ids.includes(`${zone}:${id}:0`) && ids.includes(`${zone}:${id}:4`), `each result has the id <zone>:<entry id>:<index>: ${ids.join(' ')}`);
  const letters = (JSON.parse((await run('backlog', 'list', '--json')).stdout) as { entryId: string; monitorId: string; error: string }[])
    .sort((a, b) => a.entryId.localeCompare(b.entryId));
  assert.equal(letters.map((l) => [l.entryId, l.monitorId]), [[`${id}:1`, 'poison'], [`${id}:3`, 'm5']]);
  assert.match(letters[0]!.error, /monitor poison is refused/);
  assert.match(letters[1]!.error, /^malformed entry: /);
  assert.match((await run('stats')).stdout, /dead letters \(records the store of record refused\): 2 results, 0 events/);

  sql.exec('DROP TRIGGER refuse_poison');
  assert.match((await run('backlog', 'retry')).stdout, /^1 stored, 1 refused again$/m);
  const poison = (await store.history({ monitorId: 'poison', limit: 1000 })).map((r) => r.id);
  assert.ok(poison.includes(`${zone}:${id}:1`), 'retried under its own id');
  await run('backlog', 'drop', '--yes');
  sql.exec(REFUSE);
});

test('dead letters are capped at CLOUDROUTES_BACKLOG_MAX: the oldest go, counted and logged', async () => {
  await bridge.stop();
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  bridge = await startBridge({ settings: loadSettings({ ...env, CLOUDROUTES_BACKLOG_MAX: '3' }), logger, store, blockMs: 100 });
  await bridge.ready;
  const ids = await addResults('poison', 'poison', 'poison', 'poison', 'poison');
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 5000, 'the batch drained');
  const dead = await redis.xrange(k.deadLetters('history'), '-', '+');
  assert.equal(dead.map(([, f]) => f[f.indexOf('entryId') + 1]), ids.slice(2), 'the newest three kept');
  await waitFor(async () => (await redis.hget(k.counters, 'bridge.history_dead_letters_trimmed')) === '2', 3000, 'the two dropped are counted');
  assert.ok(logs.some((l) => /^more dead letters than CLOUDROUTES_BACKLOG_MAX: the oldest are dropped/.test(String(l.msg))), 'and logged');
});

test.run();

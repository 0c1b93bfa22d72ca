/** The store of record dies while monitors run: monitoring and reactions go on from Redis, and the backlog reaches the store exactly once. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { openStore } from '../src/store/open.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';
import { entryResults } from '../src/core/history-entry.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cr-outage-store-'));
const file = join(dir, 'store.db');
const redisServer = new RedisServer();
let redis: Redis;
const env: NodeJS.ProcessEnv = {};
const procs: Proc[] = [];
const k = keys('default');
const runs = join(dir, 'runs.jsonl');

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  Object.assign(env, {
    REDIS_URL: redisServer.url, CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'),
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)),
    CLOUDROUTES_CHECKS_PATH: join(FIXTURES, 'checks'), CLOUDROUTES_ACTIONS_PATH: join(FIXTURES, 'actions'),
  });
  for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], env).start());
  await Promise.all(procs.map((p) => p.waitFor(/"(broker listening|\w+ started)"/)));
});

test.after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
});

const added = async (stream: string) => {
  const info = (await redis.call('XINFO', 'STREAM', stream)) as (string | number)[];
  return Number(info[info.indexOf('entries-added') + 1]);
};
const runCount = () => { try { return readFileSync(runs, 'utf8').trim().split('\n').filter(Boolean).length; } catch { return 0; } };

test('with the store locked, checks and reactions go on; afterwards every result and event is stored once', async () => {
  const add = async (...args: string[]) => {
    const r = await cli(args, { ...env, LOG_LEVEL: 'silent' });
    assert.is(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const rid = await add('reaction', 'add', '--name', 'rec', '--rtype', 'records', '--call-on', 'both', '--once', '--data', JSON.stringify({ file: runs }));
  const id = await add('monitor', 'add', '--name', 'svc', '--ctype', 'zone-flag', '--interval', '1s', '--data', JSON.stringify({ dir }), '--reactions', rid);
  writeFileSync(join(dir, 'default'), 'healthy');
  await waitFor(async () => (await redis.hget(k.state(id), 'status')) === 'healthy', 6000, 'healthy');
  await waitFor(async () => (await redis.xlen(k.history)) === 0, 5000, 'history drained before the outage');

  const lock = new Database(file);
  lock.exec('BEGIN EXCLUSIVE');
  const outageStart = Date.now();
  writeFileSync(join(dir, 'default'), 'failed');
  await waitFor(async () => (await redis.hget(k.state(id), 'status')) === 'failed', 5000, 'failure detected while the store is down');
  await waitFor(() => runCount() === 1, 5000, 'the reaction ran while the store is down');
  writeFileSync(join(dir, 'default'), 'healthy');
  await waitFor(async () => (await redis.hget(k.state(id), 'status')) === 'healthy', 5000, 'recovery detected while the store is down');
  await waitFor(() => runCount() === 2, 5000, 'the healthy reaction ran while the store is down');
  const bridge = procs.find((p) => p.args[0] === 'bridge')!;
  await bridge.waitFor('writing history to the store of record failed', 15_000);
  await bridge.waitFor('writing events to the store of record failed', 15_000);
  await new Promise((r) => setTimeout(r, 3000));
  for (const part of ['history', 'events']) {
    const said = bridge.output.match(new RegExp(`writing ${part} to the store of record failed`, 'g')) ?? [];
    assert.is(said.length, 1, `the bridge logs the ${part} outage once, not per attempt`);
  }
  const status = await cli(['status'], { ...env, LOG_LEVEL: 'silent' });
  assert.match(status.stderr, /note: the store of record has been unreachable since .*cache only/);
  assert.match(status.stdout, new RegExp(`${id}\\s+svc\\s+zone-flag\\s+healthy`));
  assert.is(await redis.hget(k.state(id), 'cacheOnly'), '1', 'the sink marks what it records while the store is down');
  const marked = (await redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f)).map((h) => h.cacheOnly);
  assert.ok(marked.includes('1'), 'history entries recorded during the outage are marked cache-only');
  assert.ok(marked.length >= 4, 'results wait in Redis');
  assert.ok((await redis.xlen(k.events)) >= 4, 'events wait in Redis');
  lock.exec('COMMIT');
  lock.close();

  await waitFor(async () => (await redis.xlen(k.history)) === 0 && (await redis.xlen(k.events)) === 0, 15_000, 'backlog drained');
  await bridge.waitFor('writing history to the store of record works again', 3000);
  await waitFor(async () => (await redis.hget(k.state(id), 'cacheOnly')) === '', 3000, 'results no longer marked cache-only');
  // Producers first, then what they last recorded drains: a bridge stopped before the sink leaves the sink's last result out of the store.
  for (const name of ['control', 'worker', 'sink']) await procs.find((p) => p.args[0] === name)!.kill();
  await waitFor(async () => (await redis.xlen(k.history)) + (await redis.xlen(k.events)) === 0, 5000, 'the last results drained');
  for (const p of procs) await p.kill();
  const store = await openStore(`sqlite:${file}`);
  const history = await store.history({ monitorId: id, limit: 1_000_000 });
  const events = await store.events({ monitorId: id, limit: 1_000_000 });
  await store.close();
  assert.is(history.length, await added(k.history), 'every result once');
  assert.is(new Set(history.map((h) => h.id)).size, history.length);
  assert.is(events.length, await added(k.events), 'every event once');
  assert.ok(events.some((e) => e.kind === 'reaction' && e.at > outageStart), 'reaction runs from the outage are in the store');
});

test.run();
